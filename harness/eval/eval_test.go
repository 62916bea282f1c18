package eval

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func onehot(pred []int32, k int) []float32 {
	p := make([]float32, len(pred)*k)
	for i, c := range pred {
		for j := range k {
			p[i*k+j] = 0.1 / float32(k-1)
		}
		p[i*k+int(c)] = 0.9
	}
	return p
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func TestEvaluate(t *testing.T) {
	y := []int32{0, 0, 1, 1, 2, 2}
	pred := []int32{0, 1, 1, 1, 2, 0}
	m, err := Evaluate(y, onehot(pred, 3), []string{"a", "b", "c"}, Options{Bootstrap: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy", m.Accuracy, 4.0 / 6},
		{"precision a", m.PerClass[0].Precision, 0.5},
		{"precision b", m.PerClass[1].Precision, 2.0 / 3},
		{"recall c", m.PerClass[2].Recall, 0.5},
		{"f1 b", m.PerClass[1].F1, 0.8},
		{"macro f1", m.MacroF1, (0.5 + 0.8 + 2.0/3) / 3},
		{"macro recall", m.MacroRecall, (0.5 + 1 + 0.5) / 3},
		{"weighted f1", m.WeightedF1, (0.5 + 0.8 + 2.0/3) / 3},
		{"log loss", m.LogLoss, (4*-math.Log(0.9) + 2*-math.Log(0.05)) / 6},
		{"top2 (ties count for the true class)", m.TopK["top2"], 1},
	} {
		if !near(tc.got, tc.want) {
			t.Errorf("%s = %.5f, want %.5f", tc.name, tc.got, tc.want)
		}
	}
	if want := [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}; !slices.EqualFunc(m.Confusion, want, slices.Equal) {
		t.Errorf("confusion %v", m.Confusion)
	}
	ci := m.CI["accuracy"]
	if !(ci.Lo <= m.Accuracy && m.Accuracy <= ci.Hi && ci.Lo >= 0 && ci.Hi <= 1 && ci.Hi > ci.Lo) {
		t.Errorf("accuracy CI %+v around %.3f", ci, m.Accuracy)
	}
	m2, _ := Evaluate(y, onehot(pred, 3), []string{"a", "b", "c"}, Options{Bootstrap: 200, Seed: 1})
	if m2.CI["macro_f1"] != m.CI["macro_f1"] {
		t.Error("bootstrap not deterministic for one seed")
	}
}

func TestEvaluateZeroDivisionAndErrors(t *testing.T) {
	m, err := Evaluate([]int32{0, 0}, onehot([]int32{0, 0}, 3), []string{"a", "b", "c"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.PerClass[1].Precision != 0 || m.PerClass[1].F1 != 0 || m.Accuracy != 1 || !near(m.MacroF1, 1.0/3) {
		t.Errorf("absent classes: %+v", m)
	}
	if _, err := Evaluate([]int32{0, 3}, make([]float32, 6), []string{"a", "b", "c"}, Options{}); err == nil {
		t.Error("label out of range accepted")
	}
	if _, err := Evaluate([]int32{0}, make([]float32, 2), []string{"a", "b", "c"}, Options{}); err == nil {
		t.Error("short probabilities accepted")
	}
}

func TestMcNemar(t *testing.T) {
	mk := func(onlyA, onlyB, both int) (y, a, b []int32) {
		for range onlyA {
			y, a, b = append(y, 1), append(a, 1), append(b, 0)
		}
		for range onlyB {
			y, a, b = append(y, 1), append(a, 0), append(b, 1)
		}
		for range both {
			y, a, b = append(y, 1), append(a, 1), append(b, 1)
		}
		return
	}
	for _, tc := range []struct {
		onlyA, onlyB int
		p            float64
		exact        bool
	}{
		{10, 2, 158.0 / 4096, true},
		{30, 10, 0.0026636, false},
		{0, 0, 1, true},
		{5, 5, 1, true},
	} {
		y, a, b := mk(tc.onlyA, tc.onlyB, 7)
		r := McNemar("a", "b", y, a, b)
		if r.OnlyA != tc.onlyA || r.OnlyB != tc.onlyB || r.Exact != tc.exact || math.Abs(r.PValue-tc.p) > 1e-5 {
			t.Errorf("McNemar(%d,%d) = %+v, want p=%.6f", tc.onlyA, tc.onlyB, r, tc.p)
		}
	}
}

func TestMeanCI(t *testing.T) {
	m, h := MeanCI([]float64{1, 2, 3})
	if !near(m, 2) || !near(h, 4.302653/math.Sqrt(3)) {
		t.Errorf("MeanCI = %v ± %v", m, h)
	}
	if m, h := MeanCI([]float64{5}); m != 5 || h != 0 {
		t.Errorf("single value: %v ± %v", m, h)
	}
}

func labels(counts ...int) []int32 {
	var y []int32
	for c, n := range counts {
		for range n {
			y = append(y, int32(c))
		}
	}
	return y
}

func checkPartition(t *testing.T, f Fold, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, side := range [][]int{f.Train, f.Val, f.Test} {
		for _, i := range side {
			seen[i]++
		}
	}
	for i, s := range seen {
		if s != 1 {
			t.Fatalf("row %d on %d sides", i, s)
		}
	}
}

func TestSplitStratified(t *testing.T) {
	y := labels(100, 50, 10, 1)
	folds, err := Split(SplitConfig{Kind: "stratified", Test: 0.2, Val: 0.1}, y, nil, 42)
	if err != nil {
		t.Fatal(err)
	}
	f := folds[0]
	checkPartition(t, f, len(y))
	count := func(rows []int, c int32) (n int) {
		for _, i := range rows {
			if y[i] == c {
				n++
			}
		}
		return
	}
	for _, tc := range []struct {
		class           int32
		test, val, rest int
	}{{0, 20, 10, 70}, {1, 10, 5, 35}, {2, 2, 1, 7}, {3, 0, 0, 1}} {
		if a, b, c := count(f.Test, tc.class), count(f.Val, tc.class), count(f.Train, tc.class); a != tc.test || b != tc.val || c != tc.rest {
			t.Errorf("class %d: test %d val %d train %d, want %d %d %d", tc.class, a, b, c, tc.test, tc.val, tc.rest)
		}
	}
	again, _ := Split(SplitConfig{Kind: "stratified", Test: 0.2, Val: 0.1}, y, nil, 42)
	if !slices.Equal(again[0].Test, f.Test) {
		t.Error("same seed, different split")
	}
	other, _ := Split(SplitConfig{Kind: "stratified", Test: 0.2, Val: 0.1}, y, nil, 43)
	if slices.Equal(other[0].Test, f.Test) {
		t.Error("different seed, same split")
	}
}

func TestSplitKFoldAndGroups(t *testing.T) {
	y := labels(40, 30, 30)
	folds, err := Split(SplitConfig{Kind: "kfold", K: 5, Val: 0.1}, y, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	inTest := make([]int, len(y))
	for _, f := range folds {
		checkPartition(t, f, len(y))
		if len(f.Test) != 20 {
			t.Errorf("fold test size %d, want 20", len(f.Test))
		}
		for _, i := range f.Test {
			inTest[i]++
		}
	}
	for i, c := range inTest {
		if c != 1 {
			t.Fatalf("row %d in %d test folds", i, c)
		}
	}
	groups := make([]int32, len(y))
	for i := range groups {
		groups[i] = int32(i % 17)
	}
	for _, cfg := range []SplitConfig{{Kind: "kfold", K: 4, Grouped: true}, {Kind: "stratified", Test: 0.3, Grouped: true}} {
		folds, err := Split(cfg, y, groups, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range folds {
			checkPartition(t, f, len(y))
			side := map[int32]string{}
			for name, rows := range map[string][]int{"train": f.Train, "val": f.Val, "test": f.Test} {
				for _, i := range rows {
					if s, ok := side[groups[i]]; ok && s != name {
						t.Fatalf("%s: group %d on %s and %s", cfg.Kind, groups[i], s, name)
					}
					side[groups[i]] = name
				}
			}
		}
	}
}

func TestSplitErrors(t *testing.T) {
	y := labels(10, 10)
	for _, cfg := range []SplitConfig{
		{Kind: "kfold", K: 1}, {Kind: "stratified", Test: 0}, {Kind: "stratified", Test: 0.6, Val: 0.5},
		{Kind: "bogus", Test: 0.2}, {Kind: "kfold", K: 50},
	} {
		if _, err := Split(cfg, y, nil, 1); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := Split(SplitConfig{Kind: "stratified", Test: 0.2, Grouped: true}, y, []int32{1}, 1); err == nil {
		t.Error("groups of wrong length accepted")
	}
}

func TestLeaks(t *testing.T) {
	keys := []uint64{1, 2, 3, 1, 5}
	if n := Leaks(keys, Fold{Train: []int{0, 1}, Test: []int{2, 3, 4}}); n != 1 {
		t.Errorf("Leaks = %d, want 1", n)
	}
}

func ExampleEvaluate() {
	y := []int32{0, 1, 1}
	proba := []float32{0.8, 0.2, 0.3, 0.7, 0.6, 0.4}
	m, _ := Evaluate(y, proba, []string{"web", "voip"}, Options{})
	fmt.Printf("accuracy %.3f, macro F1 %.3f, confusion %v\n", m.Accuracy, m.MacroF1, m.Confusion)
	// Output: accuracy 0.667, macro F1 0.667, confusion [[1 0] [1 1]]
}
