// Package onnxtest gives tests of other packages an initialised ONNX Runtime and onnxruntime_go's
// scikit-learn test model, skipping the test with a message where they are not available. (The
// onnx package's own tests keep a copy: they cannot import this package without a cycle.)
package onnxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/model/onnx"
)

// Runtime returns an initialised ONNX Runtime from $ETCH_ONNXRUNTIME_LIB or, unset, the
// repository's .cache/onnxruntime (what `make onnxruntime` fetches and `make test` sets); it skips
// the test when the library is missing.
func Runtime(t testing.TB) *onnx.Runtime {
	t.Helper()
	lib := os.Getenv(onnx.LibraryEnv)
	if lib == "" {
		lib = filepath.Join(moduleRoot(), ".cache", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%s); run `make onnxruntime` or set %s", lib, onnx.LibraryEnv)
	}
	rt := onnx.NewRuntime(lib)
	if err := rt.Init(); err != nil {
		t.Fatal(err)
	}
	return rt
}

// SklearnForest returns the path of onnxruntime_go's scikit-learn RandomForest export (iris:
// input X [-1,4], outputs output_label and a ZipMap output_probability), skipping the test when
// the module or the file cannot be found.
func SklearnForest(t testing.TB) string {
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

// moduleRoot is the nearest directory at or above the working directory that holds go.mod (a
// test's working directory is its package's), or "." when there is none.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "."
		}
		dir = up
	}
}
