package nn

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/kernels"
)

// synth makes a learnable dataset: each class has its own packet-size profile over time (a bump
// at a class-specific position) plus noise, and tabular features whose means depend on the class.
func synth(n, seqLen, channels, tab, classes int, seed uint64) *model.Data {
	rng := rand.New(rand.NewPCG(seed, 11))
	d := &model.Data{N: n, SeqLen: seqLen, Classes: classes, Y: make([]int32, n)}
	for c := range channels {
		d.SeqChannels = append(d.SeqChannels, "ch"+string(rune('a'+c)))
	}
	for f := range tab {
		d.TabNames = append(d.TabNames, "f"+string(rune('a'+f)))
	}
	for k := range classes {
		d.ClassNames = append(d.ClassNames, "class"+string(rune('A'+k)))
	}
	d.Seq = make([]float32, n*seqLen*channels)
	d.Tab = make([]float32, n*tab)
	for i := range n {
		y := int32(i % classes)
		d.Y[i] = y
		pos := 0
		if seqLen > 0 {
			pos = (int(y)*seqLen/classes + rng.IntN(2)) % seqLen
		}
		for t := range seqLen {
			for c := range channels {
				v := 100 + 20*rng.NormFloat64()
				if t >= pos && t < pos+2 {
					v += 400 * float64(c+1)
				}
				d.Seq[(i*seqLen+t)*channels+c] = float32(v)
			}
		}
		for f := range tab {
			d.Tab[i*tab+f] = float32(float64(y)*float64(f+1) + rng.NormFloat64()*0.7)
		}
	}
	return d
}

func accuracy(t *testing.T, m model.Model, d *model.Data) float64 {
	t.Helper()
	p := make([]float32, d.N*d.Classes)
	if err := m.PredictProba(context.Background(), d, p); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range d.N {
		row := p[i*d.Classes : (i+1)*d.Classes]
		var s float32
		for _, v := range row {
			s += v
		}
		if math.Abs(float64(s)-1) > 1e-4 {
			t.Fatalf("row %d sums to %v", i, s)
		}
		if argmax(row) == int(d.Y[i]) {
			ok++
		}
	}
	return float64(ok) / float64(d.N)
}

// smallParams shrinks each preset for tests.
func smallParams(kind string) map[string]any {
	p := map[string]any{"epochs": 12, "batch": 32, "lr": 0.01, "patience": 3}
	switch kind {
	case PresetDNN:
		p["dense"] = []int{32, 16}
	case PresetCNNLSTM:
		p["filters"], p["units"], p["dense"] = []int{8}, []int{8}, []int{8}
	case PresetCNNGRU:
		p["filters"], p["units"], p["dense"] = []int{8, 8}, []int{8}, []int{8}
	case PresetRNNBaseline:
		p["units"] = []int{8, 8}
	case TypeNN:
		p["layers"] = []any{
			map[string]any{"type": "conv1d", "filters": 6, "kernel": 3, "padding": "same", "activation": "relu"},
			map[string]any{"type": "maxpool1d", "size": 2},
			map[string]any{"type": "flatten"},
			map[string]any{"type": "dense", "units": 12, "activation": "tanh"},
		}
		p["tab_layers"] = []any{map[string]any{"type": "dense", "units": 4, "activation": "relu"}}
		p["inputs"] = "both"
	}
	return p
}

func newModel(t *testing.T, kind string, params map[string]any, seed uint64) *Model {
	t.Helper()
	reg := model.Registry{}
	Register(reg)
	m, err := reg.New(model.Spec{Name: "m", Type: kind, Params: params}, model.Env{Seed: seed, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model)
}

func TestPresetsLearn(t *testing.T) {
	train := synth(300, 12, 2, 3, 4, 1)
	test := synth(120, 12, 2, 3, 4, 2)
	for _, kind := range append([]string{TypeNN}, Presets()...) {
		t.Run(kind, func(t *testing.T) {
			m := newModel(t, kind, smallParams(kind), 42)
			defer m.Close()
			if err := m.Fit(context.Background(), train, nil); err != nil {
				t.Fatal(err)
			}
			acc := accuracy(t, m, test)
			t.Logf("%s: test accuracy %.3f after %d epochs (%v)\n%s", kind, acc, len(m.History()), m.FitTime(), m.Summary())
			if acc < 0.8 {
				t.Errorf("%s: test accuracy %.3f, want ≥ 0.8 (history %+v)", kind, acc, m.History())
			}
			h := m.History()
			if len(h) == 0 || h[len(h)-1].TrainLoss >= h[0].TrainLoss {
				t.Errorf("%s: training loss did not fall: %+v", kind, h)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	train := synth(80, 10, 1, 0, 3, 3)
	run := func(seed uint64) []float32 {
		m := newModel(t, PresetCNNLSTM, smallParams(PresetCNNLSTM), seed)
		defer m.Close()
		if err := m.Fit(context.Background(), train, nil); err != nil {
			t.Fatal(err)
		}
		p := make([]float32, train.N*train.Classes)
		if err := m.PredictProba(context.Background(), train, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := run(5), run(5), run(6)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different probability at %d: %v vs %v", i, a[i], b[i])
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave identical models")
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	train := synth(120, 8, 1, 0, 3, 4)
	val := synth(60, 8, 1, 0, 3, 5)
	// a huge learning rate makes validation loss rise after the first epochs
	p := smallParams(PresetDNN)
	p["lr"], p["epochs"], p["patience"] = 0.5, 30, 2
	m := newModel(t, PresetDNN, p, 1)
	defer m.Close()
	if err := m.Fit(context.Background(), train, val); err != nil {
		t.Fatal(err)
	}
	h := m.History()
	best := 0
	for i, e := range h {
		if e.ValLoss < h[best].ValLoss {
			best = i
		}
	}
	if len(h) == 30 && best != len(h)-1 {
		t.Errorf("no early stop although the best epoch was %d of %d", best+1, len(h))
	}
	if best < len(h)-1 && len(h)-1-best != 2 {
		t.Errorf("stopped %d epochs after the best, patience is 2", len(h)-1-best)
	}
	// the restored weights give the best epoch's validation loss
	bt := m.newBatcher(m.nw.maxN)
	vl, _, err := m.evaluate(context.Background(), val, bt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(vl-h[best].ValLoss) > 1e-5*math.Max(1, vl) {
		t.Errorf("restored model's val loss %v, best epoch had %v", vl, h[best].ValLoss)
	}
}

func TestClassWeightsShiftPredictions(t *testing.T) {
	train := synth(200, 8, 1, 0, 2, 6)
	// make the classes overlap: add heavy noise so the weights decide
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range train.Seq {
		train.Seq[i] += float32(rng.NormFloat64() * 2000)
	}
	mean := func(w []float32) float64 {
		p := smallParams(PresetDNN)
		p["val"] = 0.0
		m := newModel(t, PresetDNN, p, 2)
		defer m.Close()
		d := *train
		d.Weights = w
		if err := m.Fit(context.Background(), &d, nil); err != nil {
			t.Fatal(err)
		}
		probs := make([]float32, d.N*2)
		if err := m.PredictProba(context.Background(), &d, probs); err != nil {
			t.Fatal(err)
		}
		var s float64
		for i := range d.N {
			s += float64(probs[2*i+1])
		}
		return s / float64(d.N)
	}
	if lo, hi := mean([]float32{1, 1}), mean([]float32{1, 10}); hi <= lo+0.05 {
		t.Errorf("weighting class 1 ×10 moved its mean probability from %.3f to %.3f only", lo, hi)
	}
}

func TestConfigErrors(t *testing.T) {
	reg := model.Registry{}
	Register(reg)
	cases := []struct {
		name   string
		kind   string
		params map[string]any
	}{
		{"unknown key", PresetDNN, map[string]any{"bogus": 1}},
		{"nn without layers", TypeNN, map[string]any{}},
		{"bad layer type", TypeNN, map[string]any{"layers": []any{map[string]any{"type": "attention"}}}},
		{"zero units", TypeNN, map[string]any{"layers": []any{map[string]any{"type": "dense"}}}},
		{"bad activation", TypeNN, map[string]any{"layers": []any{map[string]any{"type": "dense", "units": 3, "activation": "gelu"}}}},
		{"even kernel same", TypeNN, map[string]any{"layers": []any{map[string]any{"type": "conv1d", "filters": 3, "kernel": 4, "padding": "same"}}}},
		{"dropout 1", TypeNN, map[string]any{"layers": []any{map[string]any{"type": "dropout", "rate": 1}}}},
		{"layers on preset", PresetCNNLSTM, map[string]any{"layers": []any{map[string]any{"type": "dense", "units": 3}}}},
		{"wrong size count", PresetCNNGRU, map[string]any{"filters": []int{3}}},
		{"val 1", PresetDNN, map[string]any{"val": 1}},
		{"inputs", PresetDNN, map[string]any{"inputs": "images"}},
		{"negative lr", PresetDNN, map[string]any{"lr": -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := reg.New(model.Spec{Name: "x", Type: c.kind, Params: c.params}, model.Env{}); err == nil {
				t.Errorf("no error for %v", c.params)
			}
		})
	}
}

func TestFitShapeErrors(t *testing.T) {
	tabOnly := synth(40, 0, 0, 3, 2, 1)
	tabOnly.Seq, tabOnly.SeqLen, tabOnly.SeqChannels = nil, 0, nil
	m := newModel(t, PresetCNNLSTM, smallParams(PresetCNNLSTM), 1)
	if err := m.Fit(context.Background(), tabOnly, nil); !errors.Is(err, model.ErrShape) {
		t.Errorf("cnn_lstm on tabular data: %v, want ErrShape", err)
	}
	short := synth(40, 2, 1, 0, 2, 1)
	if err := m.Fit(context.Background(), short, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("sequence shorter than the kernel: %v, want ErrConfig", err)
	}
	if err := m.PredictProba(context.Background(), short, make([]float32, 80)); !errors.Is(err, ErrNotFitted) {
		t.Errorf("predict before fit: %v", err)
	}
	d := newModel(t, PresetDNN, smallParams(PresetDNN), 1)
	train := synth(60, 6, 1, 2, 2, 1)
	if err := d.Fit(context.Background(), train, nil); err != nil {
		t.Fatal(err)
	}
	bad := *train
	bad.Weights = []float32{1}
	if err := d.Fit(context.Background(), &bad, nil); !errors.Is(err, model.ErrShape) {
		t.Errorf("one class weight for two classes: %v, want ErrShape", err)
	}
	other := synth(10, 7, 1, 2, 2, 1)
	if err := d.PredictProba(context.Background(), other, make([]float32, 20)); !errors.Is(err, model.ErrShape) {
		t.Errorf("predict on other sequence length: %v, want ErrShape", err)
	}
}

func TestFitCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newModel(t, PresetDNN, smallParams(PresetDNN), 1)
	if err := m.Fit(ctx, synth(50, 6, 1, 0, 2, 1), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled fit: %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	train := synth(90, 10, 2, 3, 3, 7)
	for _, kind := range append([]string{TypeNN}, Presets()...) {
		t.Run(kind, func(t *testing.T) {
			p := smallParams(kind)
			p["epochs"] = 2
			m := newModel(t, kind, p, 3)
			defer m.Close()
			if err := m.Fit(context.Background(), train, nil); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := m.Save(&buf); err != nil {
				t.Fatal(err)
			}
			l, err := Load(bytes.NewReader(buf.Bytes()), model.Env{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			a := make([]float32, train.N*3)
			b := make([]float32, train.N*3)
			if err := m.PredictProba(context.Background(), train, a); err != nil {
				t.Fatal(err)
			}
			if err := l.PredictProba(context.Background(), train, b); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("prediction %d: saved model %v, loaded %v", i, a[i], b[i])
				}
			}
			if len(l.History()) != len(m.History()) || l.Kind() != kind {
				t.Errorf("loaded history/kind differ")
			}
		})
	}
}

func TestLoadRejectsDamage(t *testing.T) {
	m := newModel(t, PresetCNNGRU, smallParams(PresetCNNGRU), 3)
	train := synth(40, 8, 1, 0, 2, 7)
	m.p.Epochs = 1
	if err := m.Fit(context.Background(), train, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for cut := 0; cut < len(good); cut += 1 + cut/8 {
		if _, err := Load(bytes.NewReader(good[:cut]), model.Env{}); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated at %d of %d: %v, want ErrFormat", cut, len(good), err)
		}
	}
	for _, off := range []int{0, 9, 13, 20, len(good) / 2, len(good) - 2} {
		bad := bytes.Clone(good)
		bad[off] ^= 0x41
		if _, err := Load(bytes.NewReader(bad), model.Env{}); !errors.Is(err, ErrFormat) {
			t.Errorf("byte %d flipped: %v, want ErrFormat", off, err)
		}
	}
}

// FuzzLoad feeds arbitrary bytes to Load: it must return an error or a model, never panic or
// allocate without bound.
func FuzzLoad(f *testing.F) {
	m, err := New(PresetRNNBaseline, Params{Units: []int{3, 3}, Epochs: 1}, model.Env{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	if err := m.Fit(context.Background(), synth(20, 5, 1, 0, 2, 1), nil); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(Magic))
	f.Add(append([]byte(Magic), 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f))
	hdr := []byte(`{"type":"dnn","params":{},"arch":{"layers":[{"type":"dense","units":16384}],"seq_len":0,"seq_channels":0,"tab":1000000,"classes":2},"use_seq":false,"use_tab":true,"seq_scale":{"mean":[],"inv":[]},"tab_scale":{"mean":[],"inv":[]},"tensors":[{"name":"w","dims":[1000000,16384]}],"seed":0}`)
	big := append([]byte(Magic), 1, 0, 0, 0, byte(len(hdr)), byte(len(hdr)>>8), 0, 0)
	f.Add(append(big, hdr...))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(data), model.Env{Threads: 1})
		if err == nil {
			m.Close()
		}
	})
}

// frame wraps a header and tensor bytes into a file with a valid preamble and checksum, so that
// FuzzLoadHeader reaches the header and architecture checks instead of failing at the CRC.
func frame(hdr, body []byte) []byte {
	out := []byte(Magic)
	out = binary.LittleEndian.AppendUint32(out, FormatVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	out = append(out, body...)
	return binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
}

// FuzzLoadHeader fuzzes the JSON header and tensor bytes of a correctly framed file.
func FuzzLoadHeader(f *testing.F) {
	m, err := New(PresetCNNGRU, Params{Filters: []int{2, 2}, Units: []int{2}, Dense: []int{2}, Epochs: 1}, model.Env{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	if err := m.Fit(context.Background(), synth(20, 6, 1, 2, 2, 1), nil); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		f.Fatal(err)
	}
	raw := buf.Bytes()
	hl := binary.LittleEndian.Uint32(raw[12:])
	hdr, body := raw[16:16+hl], raw[16+hl:len(raw)-4]
	if _, err := Load(bytes.NewReader(frame(hdr, body)), model.Env{}); err != nil {
		f.Fatalf("framing a saved model: %v", err)
	}
	f.Add(hdr, body)
	f.Add(bytes.Replace(hdr, []byte(`"seq_len":6`), []byte(`"seq_len":60000`), 1), body)
	f.Add(bytes.Replace(hdr, []byte(`"units":2`), []byte(`"units":16000`), 1), body)
	f.Add(bytes.Replace(hdr, []byte(`"classes":2`), []byte(`"classes":-1`), 1), body)
	f.Add(hdr, body[:len(body)/2])
	f.Fuzz(func(t *testing.T, hdr, body []byte) {
		m, err := Load(bytes.NewReader(frame(hdr, body)), model.Env{Threads: 1})
		if err == nil {
			m.Close()
		}
	})
}

// plainBackend exposes only kernels.Backend, hiding the CPU backend's optional fused operations
// (LSTM/GRU cells, Adam), as a minimal device backend would.
type plainBackend struct{ kernels.Backend }

// TestPlainBackendMatches trains the recurrent presets on a backend without fused operations
// (feature-major composed recurrences, host Adam) and checks they match the fused run.
func TestPlainBackendMatches(t *testing.T) {
	train := synth(64, 9, 2, 0, 3, 12)
	for _, kind := range []string{PresetCNNLSTM, PresetCNNGRU, PresetRNNBaseline} {
		t.Run(kind, func(t *testing.T) {
			run := func(b kernels.Backend) []float32 {
				p := smallParams(kind)
				p["epochs"] = 2
				var params Params
				if err := model.DecodeParams(p, &params); err != nil {
					t.Fatal(err)
				}
				m, err := New(kind, params, model.Env{Seed: 9, Backend: b})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if err := m.Fit(context.Background(), train, nil); err != nil {
					t.Fatal(err)
				}
				out := make([]float32, train.N*train.Classes)
				if err := m.PredictProba(context.Background(), train, out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			a := run(testBackend())
			b := run(plainBackend{testBackend()})
			worst := 0.0
			for i := range a {
				worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
			}
			t.Logf("%s: max |fused − plain| = %.2e", kind, worst)
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-3 {
					t.Fatalf("probability %d: fused backend %v, plain backend %v", i, a[i], b[i])
				}
			}
		})
	}
}

func TestProgressAndLog(t *testing.T) {
	var calls []int
	var logged bytes.Buffer
	p := Params{Dense: []int{4}, Epochs: 3, Patience: 10}
	m, err := New(PresetDNN, p, model.Env{Seed: 1, Threads: 1,
		Progress: func(done, total int, unit string) {
			if total != 3 || unit != "epoch" {
				t.Errorf("progress %d/%d %s", done, total, unit)
			}
			calls = append(calls, done)
		},
		Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), synth(40, 5, 1, 0, 2, 1), nil); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2] != 3 {
		t.Errorf("progress calls %v, want 1 2 3", calls)
	}
	if n := strings.Count(logged.String(), `msg="nn epoch"`); n != 3 {
		t.Errorf("%d epoch log lines:\n%s", n, logged.String())
	}
	if h := m.History(); len(h) != 3 || h[2].Epoch != 3 || h[0].ValLoss == 0 {
		t.Errorf("history %+v", h)
	}
}
