package nn

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
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

// readYardstick reads a set written by torch_yardstick.py --dump.
func readYardstick(b *testing.B, path string, classes int) *model.Data {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if len(raw) < 8 {
		b.Fatalf("%s: too short", path)
	}
	n, l := int(binary.LittleEndian.Uint32(raw)), int(binary.LittleEndian.Uint32(raw[4:]))
	if n <= 0 || l <= 0 || len(raw) != 8+4*n*l+4*n {
		b.Fatalf("%s: %d bytes do not hold %d×%d flows", path, len(raw), n, l)
	}
	d := &model.Data{N: n, SeqLen: l, SeqChannels: []string{"seq_size"}, Classes: classes,
		Seq: make([]float32, n*l), Y: make([]int32, n)}
	for i := range d.Seq {
		d.Seq[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[8+4*i:]))
	}
	for i := range d.Y {
		d.Y[i] = int32(binary.LittleEndian.Uint32(raw[8+4*n*l+4*i:]))
	}
	if err := d.Validate(); err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return d
}

// BenchmarkCNNLSTMAccuracy trains cnn_lstm on the PyTorch yardstick's own flows
// (ETCH_NN_YARDSTICK_DATA=DIR from torch_yardstick.py --dump DIR; ETCH_NN_EPOCHS epochs, default
// 5, no validation split) and reports test accuracy, for an accuracy comparison on identical data.
func BenchmarkCNNLSTMAccuracy(b *testing.B) {
	dir := os.Getenv("ETCH_NN_YARDSTICK_DATA")
	if dir == "" {
		b.Skip("set ETCH_NN_YARDSTICK_DATA to a directory written by torch_yardstick.py --dump")
	}
	epochs := 5
	if e, err := strconv.Atoi(os.Getenv("ETCH_NN_EPOCHS")); err == nil && e > 0 {
		epochs = e
	}
	train := readYardstick(b, filepath.Join(dir, "train.bin"), 25)
	test := readYardstick(b, filepath.Join(dir, "test.bin"), 25)
	zero := 0.0
	var acc float64
	for range b.N {
		m, err := New(PresetCNNLSTM, Params{Epochs: epochs, Batch: 128, Val: &zero}, model.Env{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Fit(context.Background(), train, nil); err != nil {
			b.Fatal(err)
		}
		p := make([]float32, test.N*test.Classes)
		if err := m.PredictProba(context.Background(), test, p); err != nil {
			b.Fatal(err)
		}
		ok := 0
		for i := range test.N {
			if argmax(p[i*test.Classes:(i+1)*test.Classes]) == int(test.Y[i]) {
				ok++
			}
		}
		acc = float64(ok) / float64(test.N)
		m.Close()
	}
	b.ReportMetric(acc, "test_accuracy")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*epochs), "s/epoch")
}

// BenchmarkPresetEpoch times one training epoch of every preset at its full size (batch 128) on
// 2,000 GCseq-shaped flows (100 sizes, 25 classes); multiply by 9 for an 18k-flow epoch.
func BenchmarkPresetEpoch(b *testing.B) {
	train := gcseqShaped(2000)
	for _, kind := range Presets() {
		b.Run(kind, func(b *testing.B) {
			zero := 0.0
			m, err := New(kind, Params{Epochs: 1, Batch: 128, Val: &zero}, model.Env{Seed: 1})
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
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/epoch")
		})
	}
}
