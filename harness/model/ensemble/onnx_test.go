package ensemble

import (
	"context"
	"math"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/harness/model/onnx/onnxtest"
)

// TestSoftVoteWithSklearnONNX votes a scikit-learn forest loaded from ONNX (onnxruntime_go's
// test_data/sklearn_randomforest.onnx, iris) with an etch forest.
func TestSoftVoteWithSklearnONNX(t *testing.T) {
	rt := onnxtest.Runtime(t)
	path := onnxtest.SklearnForest(t)
	reg := model.Registry{"onnx": onnx.Constructor(rt)}
	forest.Register(reg)
	Register(reg)
	sk, err := reg.New(model.Spec{Name: "sk", Type: "onnx", Params: map[string]any{"path": path}}, model.Env{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sk.(*onnx.Model).Close()
	rf, err := reg.New(model.Spec{Name: "rf", Type: "forest", Params: map[string]any{"trees": 5}}, model.Env{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := &model.Data{N: 6, TabNames: []string{"a", "b", "c", "d"}, Classes: 3, Y: []int32{2, 1, 1, 2, 2, 1}, Tab: []float32{
		5.9, 3.0, 5.1, 1.8, 6.8, 2.8, 4.8, 1.4, 6.3, 2.3, 4.4, 1.3,
		6.5, 3.0, 5.5, 1.8, 7.7, 2.8, 6.7, 2.0, 5.5, 2.5, 4.0, 1.3}}
	// The runner fits members first; the ensemble then uses them as they are.
	for _, m := range []model.Model{sk, rf} {
		if err := m.Fit(context.Background(), x, nil); err != nil {
			t.Fatal(err)
		}
	}
	vote, err := reg.New(model.Spec{Name: "vote", Type: SoftVote, Params: map[string]any{"members": []string{"sk", "rf"}}},
		model.Env{Members: map[string]model.Model{"sk": sk, "rf": rf}})
	if err != nil {
		t.Fatal(err)
	}
	if err := vote.Fit(context.Background(), x, nil); err != nil {
		t.Fatal(err)
	}
	a, b, got := predict(t, sk, x), predict(t, rf, x), predict(t, vote, x)
	for i := range got {
		if want := (a[i] + b[i]) / 2; math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("vote[%d] = %v, want %v", i, got[i], want)
		}
	}
	// scikit-learn's forest gives row 0 class 2 with 0.87 (onnxruntime_go's own test).
	if math.Abs(float64(a[2])-0.87) > 1e-4 {
		t.Errorf("scikit-learn forest row 0: %v", a[:3])
	}
}
