package onnx

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

func writeModel(t *testing.T, g *Graph) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(p, g.Model("test", map[string]string{"etch.k": "v"}, []string{"etch.k"}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func predict(t *testing.T, rt *Runtime, path string, x *model.Data) []float32 {
	t.Helper()
	m, err := Open(rt, Params{Path: path}, model.Env{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Fit(context.Background(), x, nil); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, x.N*x.Classes)
	if err := m.PredictProba(context.Background(), x, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGraphSoftmaxRegression(t *testing.T) {
	rt := testRuntime(t)
	w := []float32{1, -1, 0.5, 2, -0.25, 0}
	bias := []float32{0.1, -0.2}
	g := NewGraph("softmax_regression")
	g.Input("x", -1, 3)
	g.Float("w", []int64{3, 2}, w)
	g.Float("b", []int64{2}, bias)
	g.Node("MatMul", "", []string{"x", "w"}, []string{"xw"})
	g.Node("Add", "", []string{"xw", "b"}, []string{"logits"})
	g.Node("Softmax", "", []string{"logits"}, []string{"probabilities"}, AttrInt("axis", -1))
	g.Output("probabilities", -1, 2)
	x := &model.Data{N: 2, TabNames: []string{"a", "b", "c"}, Tab: []float32{1, 2, 3, -1, 0, 0.5}, Classes: 2}
	got := predict(t, rt, writeModel(t, g), x)
	for i := range 2 {
		var z [2]float64
		for j := range 2 {
			z[j] = float64(bias[j])
			for k := range 3 {
				z[j] += float64(x.Tab[i*3+k] * w[k*2+j])
			}
		}
		p0 := 1 / (1 + math.Exp(z[1]-z[0]))
		if math.Abs(float64(got[i*2])-p0) > 1e-5 || math.Abs(float64(got[i*2+1])-(1-p0)) > 1e-5 {
			t.Errorf("row %d: got %v, want %.6f %.6f", i, got[i*2:i*2+2], p0, 1-p0)
		}
	}
}

func TestGraphTreeEnsemble(t *testing.T) {
	rt := testRuntime(t)
	g := NewGraph("tree")
	g.Input("x", -1, 2)
	// One tree: x[1] <= 0.5 → node 1 (class 0: 0.8, class 1: 0.2), else node 2 (class 1: 1).
	g.Node("TreeEnsembleClassifier", "ai.onnx.ml", []string{"x"}, []string{"label", "probabilities"},
		AttrInts("classlabels_int64s", []int64{0, 1}),
		AttrInts("nodes_treeids", []int64{0, 0, 0}),
		AttrInts("nodes_nodeids", []int64{0, 1, 2}),
		AttrInts("nodes_featureids", []int64{1, 0, 0}),
		AttrFloats("nodes_values", []float32{0.5, 0, 0}),
		AttrStrings("nodes_modes", []string{"BRANCH_LEQ", "LEAF", "LEAF"}),
		AttrInts("nodes_truenodeids", []int64{1, 0, 0}),
		AttrInts("nodes_falsenodeids", []int64{2, 0, 0}),
		AttrInts("class_treeids", []int64{0, 0, 0}),
		AttrInts("class_nodeids", []int64{1, 1, 2}),
		AttrInts("class_ids", []int64{0, 1, 1}),
		AttrFloats("class_weights", []float32{0.8, 0.2, 1}),
		AttrString("post_transform", "NONE"))
	g.OutputInt64("label", -1)
	g.Output("probabilities", -1, 2)
	x := &model.Data{N: 3, TabNames: []string{"a", "b"}, Tab: []float32{9, 0.5, 9, 0.6, -3, -1}, Classes: 2}
	got := predict(t, rt, writeModel(t, g), x)
	want := []float32{0.8, 0.2, 0, 1, 0.8, 0.2}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
