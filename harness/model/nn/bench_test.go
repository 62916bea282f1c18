package nn

import (
	"context"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

// gcseqShaped is a GCseq-shaped training set: n flows × 100 packet sizes (one channel), 25 classes.
func gcseqShaped(n int) *model.Data { return synth(n, 100, 1, 0, 25, 77) }

// BenchmarkCNNLSTMEpoch times one training epoch of the cnn_lstm preset (batch 128) on 18k flows
// × 100 packet sizes, 25 classes — the shape of the PyTorch yardstick in testdata/torch_yardstick.py.
func BenchmarkCNNLSTMEpoch(b *testing.B) {
	train := gcseqShaped(18000)
	zero := 0.0
	m, err := New(PresetCNNLSTM, Params{Epochs: 1, Batch: 128, Val: &zero}, model.Env{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ResetTimer()
	for range b.N {
		if err := m.Fit(context.Background(), train, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/epoch")
}

// BenchmarkCNNLSTMPredict measures cnn_lstm inference throughput (flows/s) on 18k flows.
func BenchmarkCNNLSTMPredict(b *testing.B) {
	train := gcseqShaped(2000)
	zero := 0.0
	m, err := New(PresetCNNLSTM, Params{Epochs: 1, Batch: 128, Val: &zero}, model.Env{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Fit(context.Background(), train, nil); err != nil {
		b.Fatal(err)
	}
	x := gcseqShaped(18000)
	out := make([]float32, x.N*x.Classes)
	b.ResetTimer()
	for range b.N {
		if err := m.PredictProba(context.Background(), x, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.N*b.N)/b.Elapsed().Seconds(), "flows/s")
}
