package forest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

func accuracy(t testing.TB, m model.Model, d *model.Data) float64 {
	t.Helper()
	k := m.Classes()
	p := make([]float32, d.N*k)
	if err := m.PredictProba(context.Background(), d, p); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range d.N {
		row := p[i*k : (i+1)*k]
		if int32(argmax(row)) == d.Y[i] {
			ok++
		}
	}
	return float64(ok) / float64(d.N)
}

func argmax(row []float32) int {
	b := 0
	for j, v := range row {
		if v > row[b] {
			b = j
		}
	}
	return b
}

func split(d *model.Data, nTrain int) (*model.Data, *model.Data) {
	tr := make([]int, nTrain)
	te := make([]int, d.N-nTrain)
	for i := range tr {
		tr[i] = i
	}
	for i := range te {
		te[i] = nTrain + i
	}
	return d.Slice(tr), d.Slice(te)
}

func fit(t testing.TB, p Params, env model.Env, d *model.Data) *Model {
	t.Helper()
	m, err := New(p, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestForestLearns(t *testing.T) {
	d := gcseq(3000, 40, 8, 1)
	train, test := split(d, 2400)
	for _, tc := range []struct {
		name string
		p    Params
		min  float64
	}{
		{"gini", Params{Trees: 30}, 0.6},
		{"entropy balanced", Params{Trees: 30, Criterion: "entropy", ClassWeight: "balanced"}, 0.6},
		{"depth 3", Params{Trees: 20, MaxDepth: 3}, 0.3},
		{"leaf 20 all features 16 bins", Params{Trees: 20, MinSamplesLeaf: 20, MaxFeatures: "all", Bins: 16}, 0.5},
		{"fraction no bootstrap", Params{Trees: 10, MaxFeatures: 0.3, Bootstrap: new(bool)}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fit(t, tc.p, model.Env{Seed: 7, Threads: 2}, train)
			acc := accuracy(t, m, test)
			// A majority-class guess scores about 0.2 here.
			if acc < tc.min {
				t.Errorf("accuracy %.3f < %.2f", acc, tc.min)
			}
			t.Logf("%s: accuracy %.3f, %d nodes", tc.name, acc, m.Nodes())
		})
	}
}

func TestSameSeedSameForestAnyThreads(t *testing.T) {
	d := gcseq(1500, 30, 6, 2)
	a := fit(t, Params{Trees: 12}, model.Env{Seed: 3, Threads: 1}, d)
	b := fit(t, Params{Trees: 12}, model.Env{Seed: 3, Threads: 4}, d)
	c := fit(t, Params{Trees: 12}, model.Env{Seed: 4, Threads: 4}, d)
	if !nodesEqual(a.nodes, b.nodes) || !slices.Equal(a.leafP, b.leafP) || !slices.Equal(a.importance, b.importance) {
		t.Error("same seed, different thread counts: forests differ")
	}
	if nodesEqual(a.nodes, c.nodes) {
		t.Error("different seeds gave the same forest")
	}
}

func TestPureTrainingFit(t *testing.T) {
	// Fully grown trees without bootstrap reproduce distinct training examples exactly.
	d := gcseq(500, 20, 5, 3)
	m := fit(t, Params{Trees: 3, Bootstrap: new(bool), MaxFeatures: "all"}, model.Env{Seed: 1}, d)
	if acc := accuracy(t, m, d); acc < 0.99 {
		t.Errorf("training accuracy %.3f", acc)
	}
}

func TestTabAndSeqFeatures(t *testing.T) {
	// The label is in a tabular feature; the sequence is noise.
	d := gcseq(600, 10, 3, 4)
	d.TabNames = []string{"noise", "signal"}
	d.Tab = make([]float32, d.N*2)
	for i := range d.N {
		d.Tab[i*2] = float32(i % 7)
		d.Tab[i*2+1] = float32(d.Y[i])*10 + float32(i%3)
	}
	m := fit(t, Params{Trees: 10, MaxFeatures: "all"}, model.Env{Seed: 1}, d)
	if acc := accuracy(t, m, d); acc < 0.999 {
		t.Errorf("accuracy %.3f", acc)
	}
	imp := m.ImpurityImportance()
	if len(imp) != 12 || argmax64(imp) != 1 {
		t.Errorf("importances %v: want feature 1 (signal) first", imp)
	}
	if names := m.FeatureNames(); names[1] != "signal" || names[2] != "seq_size[0]" {
		t.Errorf("names %v", names)
	}
}

func argmax64(v []float64) int {
	b := 0
	for j, x := range v {
		if x > v[b] {
			b = j
		}
	}
	return b
}

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		ok     bool
	}{
		{map[string]any{}, true},
		{map[string]any{"trees": 5, "max_depth": 4, "min_samples_leaf": 2, "max_features": "log2",
			"criterion": "entropy", "class_weight": "balanced", "bins": 64}, true},
		{map[string]any{"max_features": 10}, true},
		{map[string]any{"max_features": 0.5}, true},
		{map[string]any{"max_features": 1.5}, false},
		{map[string]any{"max_features": "cube"}, false},
		{map[string]any{"max_features": -1}, false},
		{map[string]any{"criterion": "mse"}, false},
		{map[string]any{"class_weight": "heavy"}, false},
		{map[string]any{"bins": 300}, false},
		{map[string]any{"bins": 1}, false},
		{map[string]any{"trees": -3}, false},
		{map[string]any{"max_depth": -1}, false},
		{map[string]any{"min_samples_leaf": -1}, false},
		{map[string]any{"tree": 5}, false},
	} {
		_, err := Constructor(model.Spec{Name: "rf", Type: Type, Params: tc.params}, model.Env{})
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v, want ok=%v", tc.params, err, tc.ok)
		}
	}
	reg := model.Registry{}
	Register(reg)
	if _, err := reg.New(model.Spec{Name: "rf", Type: "forest"}, model.Env{}); err != nil {
		t.Error(err)
	}
}

func TestPredictErrors(t *testing.T) {
	m, _ := New(Params{}, model.Env{})
	d := gcseq(50, 5, 2, 1)
	if err := m.PredictProba(context.Background(), d, make([]float32, 100)); err != ErrNotFitted {
		t.Errorf("unfitted: %v", err)
	}
	m = fit(t, Params{Trees: 2}, model.Env{}, d)
	if err := m.PredictProba(context.Background(), d, make([]float32, 10)); err == nil {
		t.Error("short dst accepted")
	}
	other := gcseq(50, 6, 2, 1)
	if err := m.PredictProba(context.Background(), other, make([]float32, 100)); err == nil {
		t.Error("wrong feature count accepted")
	}
	if err := m.Fit(context.Background(), &model.Data{N: 1, Classes: 2, Y: []int32{0}}, nil); err == nil {
		t.Error("no features accepted")
	}
}

// TestYardstickCSV writes the benchmark dataset for testdata/sklearn_yardstick.py when
// ETCH_FOREST_CSV names the output file.
func TestYardstickCSV(t *testing.T) {
	path := os.Getenv("ETCH_FOREST_CSV")
	if path == "" {
		t.Skip("set ETCH_FOREST_CSV to write the yardstick dataset")
	}
	if err := writeCSV(filepath.Clean(path), benchData()); err != nil {
		t.Fatal(err)
	}
}

// benchData is the yardstick dataset: 20k flows × 100 packet sizes, 25 classes.
func benchData() *model.Data { return gcseq(20000, 100, 25, 2026) }

// nodesEqual compares nodes bit for bit (leaf thresholds are NaN).
func nodesEqual(a, b []node) bool {
	return slices.EqualFunc(a, b, func(x, y node) bool {
		return x.feat == y.feat && x.right == y.right && math.Float32bits(x.thr) == math.Float32bits(y.thr)
	})
}

func TestPermutationImportance(t *testing.T) {
	d := gcseq(600, 10, 3, 4)
	d.TabNames = []string{"noise", "signal"}
	d.Tab = make([]float32, d.N*2)
	for i := range d.N {
		d.Tab[i*2] = float32(i % 7)
		d.Tab[i*2+1] = float32(d.Y[i])*10 + float32(i%3)
	}
	train, test := split(d, 400)
	m := fit(t, Params{Trees: 10, MaxFeatures: "all"}, model.Env{Seed: 1}, train)
	mean, std, err := PermutationImportance(context.Background(), m, test, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(mean) != 12 || len(std) != 12 || argmax64(mean) != 1 || mean[1] < 0.3 {
		t.Errorf("mean %v std %v: want feature 1 (signal) to matter most", mean, std)
	}
	again, _, _ := PermutationImportance(context.Background(), m, test, 3, 1)
	if !slices.Equal(mean, again) {
		t.Error("same seed, different importances")
	}
	if _, _, err := PermutationImportance(context.Background(), m, test, 0, 1); err == nil {
		t.Error("repeats 0 accepted")
	}
}

func TestNaNProgressCancelWeights(t *testing.T) {
	d := gcseq(800, 12, 4, 6)
	for i := 0; i < len(d.Seq); i += 7 {
		d.Seq[i] = float32(math.NaN())
	}
	var calls, last int
	env := model.Env{Seed: 1, Threads: 3, Progress: func(done, total int, unit string) {
		calls++
		if done <= last || total != 9 || unit != "trees" {
			t.Errorf("progress %d/%d %s after %d", done, total, unit, last)
		}
		last = done
	}}
	m := fit(t, Params{Trees: 9}, env, d)
	if calls != 9 || last != 9 {
		t.Errorf("progress called %d times, last %d", calls, last)
	}
	if acc := accuracy(t, m, d); acc < 0.8 {
		t.Errorf("training accuracy with NaNs %.3f", acc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m2, _ := New(Params{Trees: 5}, model.Env{})
	if err := m2.Fit(ctx, d, nil); err == nil {
		t.Error("cancelled fit succeeded")
	}
	if err := m.PredictProba(ctx, d, make([]float32, d.N*4)); err == nil {
		t.Error("cancelled predict succeeded")
	}
	// A heavy weight on class 3 makes the forest favour it.
	w := *d
	w.Weights = []float32{1, 1, 1, 50}
	plain := fit(t, Params{Trees: 9, MaxDepth: 2}, model.Env{Seed: 1}, d)
	heavy := fit(t, Params{Trees: 9, MaxDepth: 2}, model.Env{Seed: 1}, &w)
	count3 := func(m *Model) int {
		p := make([]float32, d.N*4)
		if err := m.PredictProba(context.Background(), d, p); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range d.N {
			if argmax(p[i*4:i*4+4]) == 3 {
				n++
			}
		}
		return n
	}
	if a, b := count3(plain), count3(heavy); b <= a {
		t.Errorf("class weight 50 on class 3: %d predictions of class 3, unweighted %d", b, a)
	}
	w.Weights = []float32{1, 1, 0, 1}
	if err := (&Model{cfg: plain.cfg}).Fit(context.Background(), &w, nil); err == nil {
		t.Error("zero class weight accepted")
	}
}
