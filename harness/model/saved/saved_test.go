package saved_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/ensemble"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/nn"
	"github.com/etchlab/etch/harness/model/saved"
)

// trainData is a tiny two-class problem with statistics-like tabular features and sequences.
func trainData() *model.Data {
	n, L := 40, 4
	x := &model.Data{N: n, TabNames: []string{"size_all_mean", "duration_s"}, SeqLen: L, SeqChannels: []string{"seq_size"},
		Classes: 2, ClassNames: []string{"chat", "video"}, Tab: make([]float32, n*2), Seq: make([]float32, n*L), Y: make([]int32, n)}
	for i := range n {
		y := i % 2
		x.Y[i] = int32(y)
		x.Tab[2*i] = float32(100 + 1200*y + i)
		x.Tab[2*i+1] = float32(i % 5)
		for t := range L {
			x.Seq[i*L+t] = float32(80 + 1300*y + 3*t + i%4)
		}
	}
	return x
}

func fit(t testing.TB, m model.Model) model.Model {
	t.Helper()
	if err := m.Fit(context.Background(), trainData(), nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func models(t testing.TB) map[string]model.Model {
	t.Helper()
	rf, err := forest.New(forest.Params{Trees: 5}, model.Env{Seed: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	dnn, err := nn.New(nn.PresetDNN, nn.Params{Epochs: 2, Batch: 8}, model.Env{Seed: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	fit(t, rf)
	fit(t, dnn)
	ens, err := ensemble.New(ensemble.SoftVote, ensemble.Params{Members: []string{"rf", "dnn"}},
		model.Env{Seed: 1, Members: map[string]model.Model{"rf": rf, "dnn": dnn}})
	if err != nil {
		t.Fatal(err)
	}
	fit(t, ens)
	return map[string]model.Model{"forest": rf, "dnn": dnn, "soft_vote": ens}
}

func header(typ string) saved.Header {
	d := trainData()
	return saved.Header{Preprocess: saved.Preprocess{Features: []string{"size_all_mean", "duration_s", "seq_size"},
		TabNames: d.TabNames, SeqChannels: d.SeqChannels, SeqLen: d.SeqLen, ClassNames: d.ClassNames,
		Scaler: &data.Scaler{Method: data.ScaleNone, Tab: []data.Scale{{Name: "size_all_mean", Mul: 1}, {Name: "duration_s", Mul: 1}},
			Seq: []data.Scale{{Name: "seq_size", Mul: 1}}}}, Name: "m", Type: typ, Trial: "t1r0"}
}

// TestRoundTrip saves each model family in a bundle and checks that the loaded model predicts
// exactly what the original does, and that the header comes back.
func TestRoundTrip(t *testing.T) {
	x := trainData()
	for typ, m := range models(t) {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m"+saved.Ext)
			if err := saved.WriteFile(path, &saved.Bundle{Header: header(typ), Model: m}); err != nil {
				t.Fatal(err)
			}
			if k, err := saved.Kind(path); err != nil || k != "bundle" || !saved.IsBundle(path) {
				t.Fatalf("kind %q %v", k, err)
			}
			b, err := saved.ReadFile(path, model.Env{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			if b.Type != typ || b.Trial != "t1r0" || b.Packets() != 4 || !slices.Equal(b.ClassNames, x.ClassNames) {
				t.Fatalf("header %+v", b.Header)
			}
			want, got := make([]float32, x.N*2), make([]float32, x.N*2)
			if err := m.PredictProba(context.Background(), x, want); err != nil {
				t.Fatal(err)
			}
			if err := b.Model.PredictProba(context.Background(), x, got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("loaded model predicts %v, original %v", got[:4], want[:4])
			}
		})
	}
}

// bundleBytes returns a valid bundle of a small forest.
func bundleBytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := saved.Write(&buf, &saved.Bundle{Header: header("forest"), Model: models(t)["forest"]}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadErrors(t *testing.T) {
	good := bundleBytes(t)
	hlen := int(binary.LittleEndian.Uint32(good[12:]))
	withHeader := func(edit func(string) string) []byte {
		h := edit(string(good[16 : 16+hlen]))
		out := append([]byte{}, good[:16]...)
		binary.LittleEndian.PutUint32(out[12:], uint32(len(h)))
		out = append(out, h...)
		return append(out, good[16+hlen:]...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "byte 0: short preamble"},
		{"magic", append([]byte("ETCHXXXX"), good[8:]...), "bad magic"},
		{"version", append(append(append([]byte{}, good[:8]...), 9, 0, 0, 0), good[12:]...), "format version 9"},
		{"huge header", append(append(append([]byte{}, good[:12]...), 0xff, 0xff, 0xff, 0x7f), good[16:]...), "header of"},
		{"short header", good[:20], "short header"},
		{"unknown field", withHeader(func(h string) string { return strings.Replace(h, `{"features"`, `{"colour":1,"features"`, 1) }), "unknown field"},
		{"no classes", withHeader(func(h string) string {
			return strings.Replace(h, `"class_names":["chat","video"]`, `"class_names":["x"]`, 1)
		}), "1 classes"},
		{"class count", withHeader(func(h string) string {
			return strings.Replace(h, `"class_names":["chat","video"]`, `"class_names":["a","b","c"]`, 1)
		}), "predicts 2 classes"},
		{"scaler names", withHeader(func(h string) string { return strings.Replace(h, `"name":"duration_s"`, `"name":"other"`, 1) }), "scaler"},
		{"no model", good[:16+hlen], "short model"},
		{"truncated model", good[:len(good)-10], "byte"},
		{"other model", withHeader(func(h string) string { return h })[:16+hlen+3], "short model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := saved.Read(bytes.NewReader(tc.in), model.Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := saved.Read(bytes.NewReader(good), model.Env{}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteNotSaver(t *testing.T) {
	err := saved.Write(&bytes.Buffer{}, &saved.Bundle{Header: header("x"), Model: notSaver{}})
	if !errors.Is(err, saved.ErrNotSaver) {
		t.Fatalf("err %v", err)
	}
}

type notSaver struct{ model.Model }

func (notSaver) Classes() int { return 2 }

func TestLoadModelNative(t *testing.T) {
	for typ, m := range models(t) {
		var buf bytes.Buffer
		if err := m.(model.Saver).Save(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := saved.LoadModel(&buf, model.Env{})
		if err != nil || got.Classes() != 2 {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	if _, err := saved.LoadModel(strings.NewReader("NOTMODEL-and-more"), model.Env{}); !errors.Is(err, saved.ErrFormat) {
		t.Fatalf("err %v", err)
	}
}

// FuzzRead checks that no input makes Read panic; the corpus holds a valid bundle and damaged
// copies of it.
func FuzzRead(f *testing.F) {
	good := bundleBytes(f)
	f.Add(good)
	f.Add(good[:40])
	f.Add(good[:len(good)/2])
	f.Add([]byte(saved.Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		bundle, err := saved.Read(bytes.NewReader(b), model.Env{Threads: 1})
		if err == nil && bundle.Model.Classes() != len(bundle.ClassNames) {
			t.Fatal("inconsistent bundle accepted")
		}
	})
}

// Save a fitted forest with its preprocessing and read it back.
func Example() {
	x := trainData()
	rf, _ := forest.New(forest.Params{Trees: 5}, model.Env{Seed: 1, Threads: 1})
	if err := rf.Fit(context.Background(), x, nil); err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	b := &saved.Bundle{Header: saved.Header{Name: "rf", Type: "forest", Preprocess: saved.Preprocess{
		TabNames: x.TabNames, SeqChannels: x.SeqChannels, SeqLen: x.SeqLen, ClassNames: x.ClassNames}}, Model: rf}
	if err := saved.Write(&buf, b); err != nil {
		panic(err)
	}
	back, err := saved.Read(&buf, model.Env{Threads: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Name, back.Type, back.Packets(), back.ClassNames)
	// Output: rf forest 4 [chat video]
}
