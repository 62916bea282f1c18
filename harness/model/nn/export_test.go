package nn

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/harness/model/onnx/onnxtest"
)

// TestONNXParity exports every preset (and a layer-list model with a tabular branch, batch norm
// on vectors and standalone activations) and checks that ONNX Runtime's probabilities equal
// etch's within 1e-4.
func TestONNXParity(t *testing.T) {
	rt := onnxtest.Runtime(t)
	train := synth(96, 10, 2, 3, 3, 8)
	test := synth(37, 10, 2, 3, 3, 9)
	extra := map[string]any{
		"epochs": 2, "batch": 16, "inputs": "both",
		"layers": []any{
			map[string]any{"type": "conv1d", "filters": 5, "kernel": 3, "padding": "same"},
			map[string]any{"type": "batchnorm"},
			map[string]any{"type": "relu"},
			map[string]any{"type": "maxpool1d", "size": 3},
			map[string]any{"type": "lstm", "units": 6, "return_sequences": true},
			map[string]any{"type": "gru", "units": 5},
			map[string]any{"type": "dense", "units": 7},
			map[string]any{"type": "batchnorm"},
			map[string]any{"type": "tanh"},
			map[string]any{"type": "dropout", "rate": 0.2},
		},
		"tab_layers": []any{map[string]any{"type": "dense", "units": 4, "activation": "sigmoid"}},
	}
	cases := []struct {
		name, kind string
		params     map[string]any
	}{
		{"nn", TypeNN, extra},
		{"dnn both", PresetDNN, smallParams(PresetDNN)},
		{"dnn tab", PresetDNN, withParam(smallParams(PresetDNN), "inputs", "tab")},
		{"dnn seq", PresetDNN, withParam(smallParams(PresetDNN), "inputs", "seq")},
		{"cnn_lstm", PresetCNNLSTM, smallParams(PresetCNNLSTM)},
		{"cnn_gru", PresetCNNGRU, smallParams(PresetCNNGRU)},
		{"rnn_baseline", PresetRNNBaseline, smallParams(PresetRNNBaseline)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.params["epochs"] = 2
			m := newModel(t, c.kind, c.params, 4)
			defer m.Close()
			if err := m.Fit(context.Background(), train, nil); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.onnx")
			if err := m.ExportONNXFile(path); err != nil {
				t.Fatal(err)
			}
			// the ONNX model reads exactly the inputs the etch model reads
			x := *test
			useSeq, useTab := m.Inputs()
			if !useTab {
				x.Tab, x.TabNames = nil, nil
			}
			if !useSeq {
				x.Seq, x.SeqLen, x.SeqChannels = nil, 0, nil
			}
			om, err := onnx.Open(rt, onnx.Params{Path: path}, model.Env{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer om.Close()
			if err := om.Fit(context.Background(), &x, nil); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, x.N*x.Classes)
			got := make([]float32, x.N*x.Classes)
			if err := m.PredictProba(context.Background(), test, want); err != nil {
				t.Fatal(err)
			}
			if err := om.PredictProba(context.Background(), &x, got); err != nil {
				t.Fatal(err)
			}
			worst, mid := 0.0, 0
			for i := range want {
				worst = math.Max(worst, math.Abs(float64(want[i]-got[i])))
				if want[i] > 0.02 && want[i] < 0.98 {
					mid++
				}
			}
			// saturated outputs would hide differences in the logits
			if mid < len(want)/4 {
				t.Errorf("%s: only %d of %d probabilities in (0.02, 0.98); the check is too weak", c.name, mid, len(want))
			}
			t.Logf("%s: max |etch − ORT| = %.2e over %d probabilities", c.name, worst, len(want))
			if worst > 1e-4 {
				t.Errorf("%s: ONNX Runtime differs from etch by %.2e (> 1e-4)", c.name, worst)
			}
		})
	}
}

func withParam(p map[string]any, k string, v any) map[string]any {
	p[k] = v
	return p
}
