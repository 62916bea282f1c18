package realtime_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/harness/model/saved"
	"github.com/etchlab/etch/harness/realtime"
)

// TestONNXMatchesNative exports the fixture's forest to ONNX and classifies the capture with
// ONNX Runtime, taking the preprocessing from the saved model: every decision equals the native
// forest's. Skipped when the ONNX Runtime library is not installed (make onnxruntime).
func TestONNXMatchesNative(t *testing.T) {
	if err := onnx.NewRuntime("").Init(); err != nil {
		t.Skipf("ONNX Runtime not available: %v", err)
	}
	f := getFixture(t)
	native, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: "rf"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rf.onnx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := native.Model.(*forest.Model).ExportONNX(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	b, err := saved.ReadFile(filepath.Join(f.runDir, "models", "t1r0", "rf"+saved.Ext), model.Env{})
	if err != nil {
		t.Fatal(err)
	}
	viaONNX, err := realtime.Load(path, realtime.LoadOptions{Preprocess: &b.Preprocess})
	if err != nil {
		t.Fatal(err)
	}
	want := classifyAll(t, native, f.capture, realtime.Options{})
	got := classifyAll(t, viaONNX, f.capture, realtime.Options{})
	if len(got) != len(want) {
		t.Fatalf("%d ONNX decisions, %d native", len(got), len(want))
	}
	byKey := map[string]realtime.Decision{}
	for _, d := range want {
		byKey[decisionKey(&d)+d.Reason] = d
	}
	for _, d := range got {
		w := byKey[decisionKey(&d)+d.Reason]
		if d.Label != w.Label || abs(float64(d.Probability-w.Probability)) > 1e-5 {
			t.Fatalf("ONNX decision %s %v, native %s %v", d.Label, d.Probability, w.Label, w.Probability)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
