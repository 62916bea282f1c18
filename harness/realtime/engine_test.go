package realtime_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/harness/realtime"
	"github.com/gopacket/gopacket/layers"
)

// quietSource replays a capture's packets, then reports ErrNoPacket (a quiet live interface)
// until stop is closed, then EOF.
type quietSource struct {
	r    *flow.Reader
	stop chan struct{}
	idle int
}

func (q *quietSource) Next() ([]byte, int64, layers.LinkType, error) {
	if q.r != nil {
		f, ts, lt, err := q.r.Next()
		if err == nil {
			return f, ts, lt, nil
		}
		q.r = nil
	}
	select {
	case <-q.stop:
		return nil, 0, 0, io.EOF
	case <-time.After(time.Millisecond):
		q.idle++
		return nil, 0, 0, realtime.ErrNoPacket
	}
}

// TestBoundedWait checks that decisions of a partly filled micro-batch are made while the
// source is quiet, before it ends: the MaxWait bound, not the end of input, releases them.
func TestBoundedWait(t *testing.T) {
	f := getFixture(t)
	c, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: "rf"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := flow.NewReaderBytes(f.capture, "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	src := &quietSource{r: r, stop: make(chan struct{})}
	decided := make(chan int, 1000)
	eng, err := realtime.New(c, realtime.Options{Batch: 100000, MaxWait: time.Millisecond}, func(ds []realtime.Decision) error {
		decided <- len(ds)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(context.Background(), src) }()
	select {
	case <-decided:
	case <-time.After(30 * time.Second): // a failure deadline, not a performance bound
		t.Fatal("no decision while the source is quiet")
	}
	close(src.stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if cnt := eng.Counters(); cnt.Decisions != 150 || cnt.Early == 0 || cnt.AtEnd == 0 || cnt.Batches < 2 {
		t.Fatalf("counters %+v: want 150 decisions, early and at end, in several batches", cnt)
	}
}

// TestOutputError checks that a failing output stops the engine with its error.
func TestOutputError(t *testing.T) {
	f := getFixture(t)
	c, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: "rf"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := flow.NewReaderBytes(f.capture, "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	eng, err := realtime.New(c, realtime.Options{Batch: 4}, func([]realtime.Decision) error { return boom })
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Run(context.Background(), r); !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
}

// TestPacketsOverride checks K from the options: -1 decides at flow end only, a small K early.
func TestPacketsOverride(t *testing.T) {
	f := getFixture(t)
	c, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: "cnn"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		k, want int
	}{{-1, 0}, {3, 3}, {0, K}} {
		got := classifyAll(t, c, f.capture, realtime.Options{Packets: tc.k})
		for _, d := range got {
			if tc.want == 0 && d.Reason == flow.EndEarly || tc.want > 0 && d.Reason == flow.EndEarly && d.Packets != int64(tc.want) {
				t.Fatalf("Packets %d: decision %+v", tc.k, d)
			}
		}
		if len(got) != 150 {
			t.Fatalf("Packets %d: %d decisions", tc.k, len(got))
		}
	}
}
