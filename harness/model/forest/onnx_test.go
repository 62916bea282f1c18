package forest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/harness/model/onnx/onnxtest"
)

// TestONNXParity exports forests and checks that ONNX Runtime's probabilities equal etch's within
// 1e-4, on rows that include values exactly at thresholds, NaNs and infinities.
func TestONNXParity(t *testing.T) {
	rt := onnxtest.Runtime(t)
	for _, tc := range []struct {
		name    string
		classes int
		p       Params
	}{
		{"25 classes", 25, Params{Trees: 15}},
		{"binary", 2, Params{Trees: 10, Criterion: "entropy"}},
		{"three classes shallow", 3, Params{Trees: 7, MaxDepth: 3, ClassWeight: "balanced"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := gcseq(1500, 30, tc.classes, 11)
			d.TabNames = []string{"duration"}
			d.Tab = make([]float32, d.N)
			for i := range d.Tab {
				d.Tab[i] = float32(i%97) * 0.37
			}
			m := fit(t, tc.p, model.Env{Seed: 5, Threads: 2}, d)
			// Probe rows: thresholds exactly, NaN and ±Inf.
			x := d.Slice([]int{0, 1, 2, 3, 4, 5, 6, 7})
			f := m.features
			for i, nd := range m.nodes[:min(len(m.nodes), 40)] {
				if m.leafOf[i] >= 0 {
					continue
				}
				r := i % x.N
				if int(nd.feat) == 0 {
					x.Tab[r] = nd.thr
				} else {
					x.Seq[r*(f-1)+int(nd.feat)-1] = nd.thr
				}
			}
			x.Seq[3] = float32(math.NaN())
			x.Seq[40] = float32(math.Inf(1))
			x.Tab[5] = float32(math.Inf(-1))
			all := d.Slice(seq(300))
			for _, probe := range []*model.Data{x, all} {
				path := filepath.Join(t.TempDir(), "rf.onnx")
				fh, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.ExportONNX(fh); err != nil {
					t.Fatal(err)
				}
				fh.Close()
				om, err := onnx.Open(rt, onnx.Params{Path: path, Output: ONNXProbabilities}, model.Env{Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				defer om.Close()
				if err := om.Fit(context.Background(), probe, nil); err != nil {
					t.Fatal(err)
				}
				k := m.Classes()
				want := make([]float32, probe.N*k)
				got := make([]float32, probe.N*k)
				if err := m.PredictProba(context.Background(), probe, want); err != nil {
					t.Fatal(err)
				}
				if err := om.PredictProba(context.Background(), probe, got); err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i := range want {
					worst = max(worst, math.Abs(float64(got[i]-want[i])))
				}
				if worst > 1e-4 {
					t.Errorf("ONNX Runtime differs from etch by %.3g (> 1e-4) on %d rows", worst, probe.N)
				}
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestExportUnfitted(t *testing.T) {
	var m Model
	if err := m.ExportONNX(os.Stdout); err != ErrNotFitted {
		t.Errorf("ExportONNX on an unfitted forest: %v", err)
	}
}
