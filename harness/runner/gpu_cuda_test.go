//go:build cuda || cudaemu

// GPU tests of the CUDA build (`make test-gpu`, `make bench-gpu`). They need an NVIDIA GPU: the
// test binary links gorgonia.org/cu, whose initialiser exits without one, so the Makefile
// probes first and stops with the reason. With the cudaemu tag the "cuda" backend is the host
// emulator of the same kernels (`make cuda-check` runs TestEveryModelOnGPU that way).

package runner

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/runner/runnertest"
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

// gpuExperiment trains every model type (except onnx, which loads a file; its CUDA execution
// provider is asked for with the model's provider parameter) briefly.
const gpuExperiment = `
name: gpu
seed: 3
backend: BACKEND
data:
  path: flows.parquet
  features: [stats, seq_size, seq_dir]
split: {kind: stratified, test: 0.25, val: 0.1}
models:
  - {name: rf, type: forest, trees: 30, features: [stats]}
  - {name: dnn, type: dnn, epochs: 8, batch: 64, features: [stats]}
  - {name: cnnlstm, type: cnn_lstm, epochs: 6, batch: 64, filters: [16], units: [16], dense: [16], features: [seq_size, seq_dir]}
  - {name: cnngru, type: cnn_gru, epochs: 6, batch: 64, filters: [16, 16], units: [16], dense: [16], features: [seq_size, seq_dir]}
  - {name: rnn, type: rnn_baseline, epochs: 6, batch: 64, features: [seq_size, seq_dir]}
  - {name: vote, type: soft_vote, members: [rf, dnn, cnnlstm]}
  - {name: stack, type: stacking, members: [rf, dnn]}
`

// TestEveryModelOnGPU trains every model type with backend cuda and with backend cpu on the same
// data, split and seeds. The report must name the GPU; each model's test accuracy on the GPU
// must be within 0.05 of the CPU's (float32 training on different hardware drifts apart slowly:
// cuBLAS and the CPU sum products in different orders) and 0.05 above a constant guess.
func TestEveryModelOnGPU(t *testing.T) {
	dir := t.TempDir()
	if err := runnertest.WriteDataset(filepath.Join(dir, "flows.parquet"), runnertest.Options{Flows: 1200, Seed: 9, SeqLen: 20}); err != nil {
		t.Fatal(err)
	}
	acc := map[string]map[string]float64{}
	var majority float64 // the most frequent class's share: what a constant guess scores
	for _, backend := range []string{"cpu", "cuda"} {
		yaml := []byte(strings.Replace(gpuExperiment, "BACKEND", backend, 1))
		exp, err := config.Parse("gpu.yaml", yaml)
		if err != nil {
			t.Fatal(err)
		}
		reg := DefaultRegistry("")
		if err := exp.Validate(reg.Types()); err != nil {
			t.Fatal(err)
		}
		out, err := Run(context.Background(), exp, Options{Version: "test", WorkDir: dir, OutDir: filepath.Join(dir, backend),
			CacheDir: "off", Registry: reg, Jobs: 1})
		if err != nil {
			t.Fatal(err)
		}
		if out.Failed > 0 {
			t.Fatalf("%s: %s", backend, out.Results.Trials[0].Error)
		}
		b := out.Results.Backend
		if b.Used != backend {
			t.Fatalf("requested %s, used %s (%s)", backend, b.Used, b.Reason)
		}
		t.Logf("%s: %s (%s)", backend, b.Description, b.Reason)
		total, most := 0, 0
		for _, c := range out.Results.Trials[0].Dataset.Classes {
			total += c.Count
			most = max(most, c.Count)
		}
		majority = float64(most) / float64(total)
		acc[backend] = map[string]float64{}
		for name, m := range out.Results.Trials[0].Models {
			acc[backend][name] = m.Accuracy
		}
	}
	for name, a := range acc["cpu"] {
		g := acc["cuda"][name]
		t.Logf("%-8s cpu %.4f  cuda %.4f", name, a, g)
		if math.Abs(g-a) > 0.05 {
			t.Errorf("%s: accuracy cuda %.4f vs cpu %.4f (tolerance 0.05)", name, g, a)
		}
		if g < majority+0.05 {
			t.Errorf("%s: accuracy on the GPU %.4f, a constant guess scores %.4f: did not learn", name, g, majority)
		}
	}
}

// gcseqShaped is a GCseq-shaped set: n flows × 100 packet sizes (one channel), 25 classes, and
// 40 tabular statistics, class-dependent with noise.
func gcseqShaped(n int) *model.Data {
	const seqLen, tab, classes = 100, 40, 25
	r := rand.New(rand.NewPCG(77, 1))
	d := &model.Data{N: n, SeqLen: seqLen, SeqChannels: []string{"size"}, Classes: classes,
		Seq: make([]float32, n*seqLen), Tab: make([]float32, n*tab), Y: make([]int32, n)}
	for j := range tab {
		d.TabNames = append(d.TabNames, fmt.Sprintf("f%d", j))
	}
	for i := range n {
		y := int32(i % classes)
		d.Y[i] = y
		for t := range seqLen {
			d.Seq[i*seqLen+t] = float32(math.Sin(float64(int(y)*(t+1))/7)) + float32(r.NormFloat64())*0.5
		}
		for j := range tab {
			d.Tab[i*tab+j] = float32(int(y)*(j+3)%11)/11 + float32(r.NormFloat64())*0.3
		}
	}
	return d
}

// benchModel times Fit of one model type on the CPU backend and on the GPU (`make bench-gpu`
// pairs the two and prints the speedup).
func benchModel(b *testing.B, typ string, params map[string]any, data *model.Data) {
	gpu, _, err := kernels.Open(context.Background(), "cuda", DefaultOpeners(), kernels.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range []kernels.Backend{cpu.New(kernels.Options{}), gpu} {
		b.Run(be.Name(), func(b *testing.B) {
			reg := DefaultRegistry("")
			for b.Loop() {
				m, err := reg.New(model.Spec{Name: typ, Type: typ, Params: params}, model.Env{Seed: 1, Backend: be, Threads: 0})
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Fit(context.Background(), data, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkGPUCNNLSTMEpoch: one cnn_lstm training epoch (batch 128, no validation split) on 20k
// GCseq-shaped flows. The target is ≥ 20× the CPU backend.
func BenchmarkGPUCNNLSTMEpoch(b *testing.B) {
	d := gcseqShaped(20000)
	d.Tab, d.TabNames = nil, nil
	benchModel(b, "cnn_lstm", map[string]any{"epochs": 1, "batch": 128, "val": 0.0}, d)
}

// BenchmarkGPUForestFit: a 100-tree forest on the 40 statistics of the same set. The forest does
// not use the kernels backend (its histogram building runs on the CPU in both cases), so the
// target, no slower than on the CPU, holds by construction; the benchmark shows it.
func BenchmarkGPUForestFit(b *testing.B) {
	d := gcseqShaped(20000)
	d.Seq, d.SeqLen, d.SeqChannels = nil, 0, nil
	benchModel(b, "forest", map[string]any{"trees": 100}, d)
}
