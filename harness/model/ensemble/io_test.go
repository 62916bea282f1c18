package ensemble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
)

// fittedNested returns a fitted stacking over a forest and a soft vote of two forests.
func fittedNested(t testing.TB) (*Model, *model.Data) {
	reg := model.Registry{}
	forest.Register(reg)
	Register(reg)
	specs := map[string]model.Spec{
		"rf":    {Name: "rf", Type: "forest", Params: map[string]any{"trees": 4, "max_depth": 4}},
		"rf2":   {Name: "rf2", Type: "forest", Params: map[string]any{"trees": 3}},
		"inner": {Name: "inner", Type: SoftVote, Params: map[string]any{"members": []string{"rf", "rf2"}, "weights": []float64{2, 1}}},
	}
	var build func(string, uint64) (model.Model, error)
	build = func(name string, seed uint64) (model.Model, error) {
		return reg.New(specs[name], model.Env{Seed: seed, Threads: 1, Build: build})
	}
	m, err := New(Stacking, Params{Members: []string{"rf", "inner"}, Folds: 2}, model.Env{Seed: 1, Build: build})
	if err != nil {
		t.Fatal(err)
	}
	d := gcseqLike(200, 5)
	if err := m.Fit(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	return m, d
}

func loadMember(name string, r io.Reader) (model.Model, error) {
	switch name {
	case "rf", "rf2":
		return forest.Load(r, model.Env{Threads: 1})
	case "inner":
		return Load(r, model.Env{}, loadMember)
	}
	return nil, fmt.Errorf("no loader for %q", name)
}

func TestSaveLoad(t *testing.T) {
	m, d := fittedNested(t)
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	good := bytes.Clone(b.Bytes())
	l, err := Load(&b, model.Env{}, loadMember)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := predict(t, l, d), predict(t, m, d); !slices.Equal(got, want) {
		t.Error("loaded ensemble predicts differently")
	}
	for n := 0; n < len(good); n += 1 + n/16 {
		if _, err := Load(bytes.NewReader(good[:n]), model.Env{}, loadMember); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(good), err)
		}
	}
	bad := bytes.Clone(good)
	bad[len(bad)/3] ^= 1
	if _, err := Load(bytes.NewReader(bad), model.Env{}, loadMember); err == nil {
		t.Error("flipped byte accepted")
	}
	unsaveable, _ := New(SoftVote, Params{Members: []string{"t"}}, model.Env{Members: map[string]model.Model{"t": &table{k: 2, probs: [][]float32{{1, 0}}}}})
	if err := unsaveable.Fit(context.Background(), data(2, 2), nil); err != nil {
		t.Fatal(err)
	}
	if err := unsaveable.Save(io.Discard); err == nil {
		t.Error("saved a member that is not a Saver")
	}
}

// FuzzLoad: damaged ensemble files give an error, never a panic or a huge allocation.
func FuzzLoad(f *testing.F) {
	m, _ := fittedNested(f)
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:40])
	f.Add([]byte(magic + "\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Load(bytes.NewReader(data), model.Env{}, loadMember)
		if err == nil && l.Classes() < 1 {
			t.Fatal("loaded an ensemble without classes")
		}
	})
}
