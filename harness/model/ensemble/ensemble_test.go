package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
)

// table is a fitted stand-in member: row r gets probs[r%len(probs)].
type table struct {
	k     int
	probs [][]float32
	fits  int
}

func (t *table) Fit(context.Context, *model.Data, *model.Data) error { t.fits++; return nil }
func (t *table) Classes() int                                        { return t.k }
func (t *table) PredictProba(_ context.Context, x *model.Data, dst []float32) error {
	for r := range x.N {
		copy(dst[r*t.k:(r+1)*t.k], t.probs[r%len(t.probs)])
	}
	return nil
}

func data(n, k int) *model.Data {
	d := &model.Data{N: n, TabNames: []string{"a"}, Tab: make([]float32, n), Y: make([]int32, n), Classes: k}
	for i := range n {
		d.Y[i] = int32(i % k)
		d.Tab[i] = float32(i)
	}
	return d
}

func predict(t *testing.T, m model.Model, x *model.Data) []float32 {
	t.Helper()
	out := make([]float32, x.N*m.Classes())
	if err := m.PredictProba(context.Background(), x, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func near(a, b []float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestVoting(t *testing.T) {
	a := &table{k: 3, probs: [][]float32{{0.6, 0.3, 0.1}, {0.2, 0.2, 0.6}}}
	b := &table{k: 3, probs: [][]float32{{0.1, 0.8, 0.1}, {0.3, 0.4, 0.3}}}
	c := &table{k: 3, probs: [][]float32{{0.2, 0.7, 0.1}, {0.1, 0.1, 0.8}}}
	env := model.Env{Members: map[string]model.Model{"a": a, "b": b, "c": c}}
	x := data(2, 3)
	for _, tc := range []struct {
		kind    string
		members []string
		weights []float64
		want    []float32
	}{
		{SoftVote, []string{"a", "b", "c"}, nil, []float32{0.3, 0.6, 0.1, 0.2, 0.7 / 3, 1.7 / 3}},
		{SoftVote, []string{"a", "b"}, []float64{3, 1}, []float32{0.475, 0.425, 0.1, 0.225, 0.25, 0.525}},
		{HardVote, []string{"a", "b", "c"}, nil, []float32{1. / 3, 2. / 3, 0, 0, 1. / 3, 2. / 3}},
		{HardVote, []string{"a", "b"}, []float64{1, 3}, []float32{0.25, 0.75, 0, 0, 0.75, 0.25}},
	} {
		t.Run(fmt.Sprint(tc.kind, tc.members, tc.weights), func(t *testing.T) {
			m, err := New(tc.kind, Params{Members: tc.members, Weights: tc.weights}, env)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Fit(context.Background(), x, nil); err != nil {
				t.Fatal(err)
			}
			if got := predict(t, m, x); !near(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if a.fits != 0 {
		t.Errorf("fitted members were refitted %d times", a.fits)
	}
	env.FitMembers = true
	m, _ := New(SoftVote, Params{Members: []string{"a"}}, env)
	if err := m.Fit(context.Background(), x, nil); err != nil || a.fits != 1 {
		t.Errorf("FitMembers: err %v, fits %d", err, a.fits)
	}
}

// gcseqLike is a small 4-class problem in two tabular features with label noise.
func gcseqLike(n int, seed uint64) *model.Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &model.Data{N: n, TabNames: []string{"x", "y", "noise"}, Tab: make([]float32, 3*n), Y: make([]int32, n), Classes: 4}
	for i := range n {
		c := rng.IntN(4)
		d.Y[i] = int32(c)
		d.Tab[3*i] = float32(float64(c%2) + rng.NormFloat64()*0.45)
		d.Tab[3*i+1] = float32(float64(c/2) + rng.NormFloat64()*0.45)
		d.Tab[3*i+2] = float32(rng.NormFloat64())
	}
	return d
}

func accuracy(t *testing.T, m model.Model, d *model.Data) float64 {
	p := predict(t, m, d)
	ok := 0
	for i := range d.N {
		best := 0
		for c := range d.Classes {
			if p[i*d.Classes+c] > p[i*d.Classes+best] {
				best = c
			}
		}
		if int32(best) == d.Y[i] {
			ok++
		}
	}
	return float64(ok) / float64(d.N)
}

// builder plays the runner: forests by name, nested ensembles with their own Build.
func builder(t *testing.T, reg model.Registry, specs map[string]model.Spec) func(string, uint64) (model.Model, error) {
	var build func(string, uint64) (model.Model, error)
	build = func(name string, seed uint64) (model.Model, error) {
		s, ok := specs[name]
		if !ok {
			return nil, fmt.Errorf("no model %q", name)
		}
		return reg.New(s, model.Env{Seed: seed, Threads: 1, Build: build})
	}
	return build
}

func TestStackingAndNesting(t *testing.T) {
	reg := model.Registry{}
	forest.Register(reg)
	Register(reg)
	specs := map[string]model.Spec{
		"rf":      {Name: "rf", Type: "forest", Params: map[string]any{"trees": 20, "min_samples_leaf": 5}},
		"stump":   {Name: "stump", Type: "forest", Params: map[string]any{"trees": 1, "max_depth": 1}},
		"rf_deep": {Name: "rf_deep", Type: "forest", Params: map[string]any{"trees": 10, "max_features": "all"}},
		"inner":   {Name: "inner", Type: SoftVote, Params: map[string]any{"members": []string{"stump", "rf_deep"}}},
		"half":    {Name: "half", Type: SoftVote, Params: map[string]any{"members": []string{"rf", "inner"}, "weights": []float64{0.5, 0.5}}},
		"stack":   {Name: "stack", Type: Stacking, Params: map[string]any{"members": []string{"rf", "stump"}, "folds": 3}},
	}
	build := builder(t, reg, specs)
	train, test := gcseqLike(900, 1), gcseqLike(600, 2)
	acc := map[string]float64{}
	for _, name := range []string{"rf", "stump", "half", "stack"} {
		m, err := build(name, 42)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Fit(context.Background(), train, nil); err != nil {
			t.Fatal(name, err)
		}
		acc[name] = accuracy(t, m, test)
		p := predict(t, m, test)
		for r := range test.N {
			var s float32
			for _, v := range p[r*4 : r*4+4] {
				s += v
			}
			if math.Abs(float64(s)-1) > 1e-4 {
				t.Fatalf("%s: row %d probabilities sum to %v", name, r, s)
			}
		}
		if e, ok := m.(*Model); ok && e.Kind() == Stacking && e.Meta() == nil {
			t.Error("stacking has no meta-learner")
		}
	}
	t.Logf("accuracies %v", acc)
	// Bayes accuracy is about 0.75; a depth-1 forest can tell only two of four classes apart.
	if acc["rf"] < 0.65 || acc["stump"] > 0.55 || acc["half"] < 0.65 {
		t.Errorf("accuracies %v", acc)
	}
	if acc["stack"] < acc["rf"]-0.03 {
		t.Errorf("stacking %.3f fell well below its best member %.3f", acc["stack"], acc["rf"])
	}
}

func TestLogRegGradientAndFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, dim, k := 40, 3, 3
	x := make([]float64, n*dim)
	y := make([]int32, n)
	for i := range n {
		y[i] = int32(i % k)
		for j := range dim {
			x[i*dim+j] = rng.NormFloat64() + float64(y[i])*float64(j)
		}
	}
	w := make([]float64, k*dim+k)
	for i := range w {
		w[i] = rng.NormFloat64() * 0.3
	}
	g := make([]float64, len(w))
	z := make([]float64, k)
	logLoss(x, y, dim, k, 0.7, w, g, z)
	for i := range w {
		h := 1e-6
		w[i] += h
		up := logLoss(x, y, dim, k, 0.7, w, nil, z)
		w[i] -= 2 * h
		down := logLoss(x, y, dim, k, 0.7, w, nil, z)
		w[i] += h
		if num := (up - down) / (2 * h); math.Abs(num-g[i]) > 1e-4*max(1, math.Abs(num)) {
			t.Errorf("gradient %d: analytic %v, numeric %v", i, g[i], num)
		}
	}
	lr, err := FitLogReg(x, y, dim, k, 0.01, 300)
	if err != nil {
		t.Fatal(err)
	}
	// At the optimum the gradient vanishes.
	logLoss(x, y, dim, k, 0.01, lr.W, g, z)
	if gn := math.Sqrt(dot(g, g)); gn > 1e-3 {
		t.Errorf("gradient norm %v at the fitted weights", gn)
	}
	p := make([]float32, k)
	lr.Predict(x[:dim], p)
	if p[y[0]] < 0.5 {
		t.Errorf("first row: %v for class %d", p, y[0])
	}
	if _, err := FitLogReg(x, y[:3], dim, k, 1, 10); err == nil {
		t.Error("shape mismatch accepted")
	}
}

func TestErrors(t *testing.T) {
	x := data(6, 2)
	two := &table{k: 2, probs: [][]float32{{1, 0}}}
	three := &table{k: 3, probs: [][]float32{{1, 0, 0}}}
	env := model.Env{Members: map[string]model.Model{"two": two, "three": three}}
	for _, tc := range []struct {
		name string
		kind string
		p    Params
	}{
		{"no members", SoftVote, Params{}},
		{"twice", SoftVote, Params{Members: []string{"two", "two"}}},
		{"weights count", SoftVote, Params{Members: []string{"two"}, Weights: []float64{1, 2}}},
		{"negative weight", HardVote, Params{Members: []string{"two"}, Weights: []float64{-1}}},
		{"zero weights", HardVote, Params{Members: []string{"two"}, Weights: []float64{0}}},
		{"stacking weights", Stacking, Params{Members: []string{"two"}, Weights: []float64{1}}},
		{"folds", Stacking, Params{Members: []string{"two"}, Folds: 1}},
		{"kind", "bagging", Params{Members: []string{"two"}}},
	} {
		if _, err := New(tc.kind, tc.p, env); !errors.Is(err, ErrParams) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	fitErr := func(kind string, members ...string) error {
		m, err := New(kind, Params{Members: members}, env)
		if err != nil {
			return err
		}
		return m.Fit(context.Background(), x, nil)
	}
	if err := fitErr(SoftVote, "missing"); !errors.Is(err, ErrMissingMember) {
		t.Errorf("missing member: %v", err)
	}
	if err := fitErr(SoftVote, "three"); !errors.Is(err, model.ErrShape) {
		t.Errorf("class mismatch: %v", err)
	}
	if err := fitErr(Stacking, "two"); !errors.Is(err, ErrMissingMember) {
		t.Errorf("stacking without Build: %v", err)
	}
	m, _ := New(SoftVote, Params{Members: []string{"two"}}, env)
	if err := m.PredictProba(context.Background(), x, make([]float32, 12)); !errors.Is(err, ErrNotFitted) {
		t.Errorf("unfitted: %v", err)
	}
	reg := model.Registry{}
	Register(reg)
	if _, err := reg.New(model.Spec{Name: "e", Type: SoftVote, Params: map[string]any{"members": []string{"a"}, "bogus": 1}}, env); err == nil {
		t.Error("unknown parameter accepted")
	}
}
