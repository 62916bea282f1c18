package onnx

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

// testRuntime returns a runtime, skipping the test when the ONNX Runtime library is absent
// (`make test` fetches it and sets ETCH_ONNXRUNTIME_LIB).
func testRuntime(t *testing.T) *Runtime {
	t.Helper()
	lib := os.Getenv(LibraryEnv)
	if lib == "" {
		lib, _ = filepath.Abs("../../../.cache/onnxruntime/libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%s); run `make onnxruntime` or set %s", lib, LibraryEnv)
	}
	rt := NewRuntime(lib)
	if err := rt.Init(); err != nil {
		t.Fatal(err)
	}
	return rt
}

// sklearnForest returns onnxruntime_go's scikit-learn RandomForest export (input X [-1,4],
// outputs output_label and a ZipMap output_probability).
func sklearnForest(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
	if err != nil {
		t.Skipf("cannot locate the onnxruntime_go module: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "test_data", "sklearn_randomforest.onnx")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s: %v", p, err)
	}
	return p
}

func TestSklearnZipMap(t *testing.T) {
	rt := testRuntime(t)
	ctor := Constructor(rt)
	m, err := ctor(model.Spec{Name: "sk", Type: "onnx", Params: map[string]any{"path": sklearnForest(t), "batch": 4}}, model.Env{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.(*Model).Close()
	x := &model.Data{N: 6, TabNames: []string{"a", "b", "c", "d"}, Classes: 3, Tab: []float32{
		5.9, 3.0, 5.1, 1.8, 6.8, 2.8, 4.8, 1.4, 6.3, 2.3, 4.4, 1.3,
		6.5, 3.0, 5.5, 1.8, 7.7, 2.8, 6.7, 2.0, 5.5, 2.5, 4.0, 1.3}}
	if err := m.Fit(context.Background(), x, nil); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 18)
	if err := m.PredictProba(context.Background(), x, got); err != nil {
		t.Fatal(err)
	}
	// Expected values from onnxruntime_go's own test of this model.
	want := []float32{0, 0.13, 0.87, 0, 0.77, 0.23, 0, 0.97, 0.03, 0, 0, 1, 0, 0, 1, 0, 1, 0}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4 {
			t.Fatalf("proba[%d] = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	if m.(*Model).Device() != "cpu" {
		t.Errorf("device %q", m.(*Model).Device())
	}
}

func TestShapeAndFileErrors(t *testing.T) {
	rt := testRuntime(t)
	path := sklearnForest(t)
	m, err := Open(rt, Params{Path: path}, model.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bad := &model.Data{N: 1, TabNames: []string{"a", "b", "c"}, Tab: []float32{1, 2, 3}, Classes: 3}
	if err := m.Fit(context.Background(), bad, nil); err == nil || !strings.Contains(err.Error(), "input shape") {
		t.Errorf("3 features for a 4-feature model: %v", err)
	}
	for _, p := range []Params{{Path: filepath.Join(t.TempDir(), "missing.onnx")}, {Path: path, Layout: "nct"}, {Path: path, Input: "nope"}} {
		if _, err := Open(rt, p, model.Env{}); err == nil {
			t.Errorf("Open(%+v) accepted", p)
		}
	}
	garbage := filepath.Join(t.TempDir(), "garbage.onnx")
	os.WriteFile(garbage, []byte("not a model"), 0o644)
	if _, err := Open(rt, Params{Path: garbage}, model.Env{}); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage file: %v", err)
	}
	if _, err := Constructor(rt)(model.Spec{Name: "x", Type: "onnx", Params: map[string]any{}}, model.Env{}); err == nil {
		t.Error("missing path accepted")
	}
}

func TestMissingLibrary(t *testing.T) {
	rt := NewRuntime(filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	if err := rt.Init(); !errors.Is(err, ErrNoRuntime) {
		t.Errorf("Init = %v, want ErrNoRuntime", err)
	}
}
