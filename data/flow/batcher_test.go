package flow

import (
	"errors"
	"testing"

	"github.com/etchlab/etch/data"
)

// TestBatchers checks that both batchers hand every record over once, in order, with its
// sequences copied, and that an asynchronous batcher reports a write error.
func TestBatchers(t *testing.T) {
	for _, async := range []bool{false, true} {
		var got []data.Record
		write := func(recs []data.Record) error {
			for _, r := range recs {
				r.SeqSize = append([]int32(nil), r.SeqSize...)
				got = append(got, r)
			}
			return nil
		}
		b := NewBatcher(3, 2, write)
		if async {
			b = NewAsyncBatcher(3, 2, write)
		}
		for i := range 10 {
			r := data.Record{PktsFwd: int64(i), SeqSize: []int32{int32(i), -int32(i)}, SeqPayload: []int32{0, 0},
				SeqIATUS: []int32{0, 0}, SeqDir: []int32{1, -1}}
			if err := b.Add(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("async=%v: %d records written, want 10", async, len(got))
		}
		for i, r := range got {
			if r.PktsFwd != int64(i) || r.SeqSize[0] != int32(i) || r.SeqSize[1] != -int32(i) {
				t.Errorf("async=%v: record %d = %+v", async, i, r)
			}
		}
	}

	boom := errors.New("disk full")
	calls := 0
	b := NewAsyncBatcher(2, 1, func([]data.Record) error { calls++; return boom })
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		r := data.Record{SeqSize: []int32{1}, SeqPayload: []int32{1}, SeqIATUS: []int32{1}, SeqDir: []int32{1}}
		err = b.Add(&r)
	}
	if cerr := b.Close(); !errors.Is(cerr, boom) {
		t.Errorf("Close = %v, want %v", cerr, boom)
	}
	if calls != 1 {
		t.Errorf("write called %d times after failing, want once", calls)
	}
}
