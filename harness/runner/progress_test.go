package runner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etchlab/etch/harness/report"
)

func TestProgressDisplay(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		p := NewProgress(&b, tty).(*display)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		p.now = func() time.Time { return now }
		p.Begin(4, 1)
		p.TrialStarted("t2r0")
		for e := 1; e <= 10; e++ {
			now = now.Add(time.Second)
			p.Unit("t2r0", "cnn", e, 10, "epoch")
		}
		p.TrialDone(&TrialResult{Seconds: 10, Trial: report.Trial{ID: "t2r0", Models: map[string]*report.ModelResult{"cnn": {}}}})
		p.TrialDone(&TrialResult{Seconds: 1, Trial: report.Trial{ID: "t3r0", Error: "boom\nmore"}})
		p.End()
		out := b.String()
		for _, want := range []string{"trial t2r0 finished in 10.0s (2/4): accuracy cnn 0.000", "trial t3r0 finished in 1.0s (3/4): FAILED: boom", "3/4 trial(s) done, 1 failed, 10s"} {
			if !strings.Contains(out, want) {
				t.Errorf("tty=%v: output lacks %q:\n%s", tty, want, out)
			}
		}
		if tty {
			// The bar shows the running model's epoch and, after a finished trial, an ETA.
			for _, want := range []string{"t2r0: cnn epoch 10/10", "2/4 trials  ETA 20s", "\r\033[K"} {
				if !strings.Contains(out, want) {
					t.Errorf("bar lacks %q:\n%q", want, out)
				}
			}
		} else {
			if strings.Contains(out, "\r") || strings.Count(out, "cnn epoch") != 10 || !strings.Contains(out, "4 trial(s), 1 from cache, 3 to run") {
				t.Errorf("plain lines:\n%s", out)
			}
		}
	}
}

func TestProgressLines(t *testing.T) {
	var got []string
	w := &progressWriter{unit: func(trial, model string, done, total int, unit string) {
		got = append(got, fmt.Sprintf("%s/%s/%s/%d/%d", trial, model, unit, done, total))
	}}
	line := ProgressLine("t1r0", "cnn", 3, 20, "epoch")
	for _, chunk := range []string{"log line\n" + line[:10], line[10:] + "\n", "etch-progress broken\n", ProgressLine("t2r0", "rf", 5, 5, "trees") + "\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, " ") != "t1r0/cnn/epoch/3/20 t2r0/rf/trees/5/5" {
		t.Errorf("parsed %v", got)
	}
	if !strings.HasPrefix(w.String(), "log line\netch-progress t1r0 cnn epoch 3 20\n") {
		t.Errorf("output %q", w.String())
	}
}
