package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv names the environment variable that points at the ONNX Runtime shared library.
const LibraryEnv = "ETCH_ONNXRUNTIME_LIB"

// RuntimeVersion is the ONNX Runtime version the binding requires.
const RuntimeVersion = "1.24.1"

// ErrNoRuntime reports that the ONNX Runtime library could not be found or loaded.
var ErrNoRuntime = errors.New("ONNX Runtime library not available")

// Runtime initialises ONNX Runtime once, on first use. The binding keeps one process-wide
// environment; a Runtime owns it for the life of the process.
type Runtime struct {
	lib  string
	once sync.Once
	err  error
	path string
}

// NewRuntime returns a Runtime that loads the library at lib, or finds one (see the package doc)
// when lib is empty.
func NewRuntime(lib string) *Runtime { return &Runtime{lib: lib} }

// candidates lists the library paths tried in order.
func (r *Runtime) candidates() []string {
	var c []string
	if r.lib != "" {
		return []string{r.lib}
	}
	if p := os.Getenv(LibraryEnv); p != "" {
		return []string{p}
	}
	if exe, err := os.Executable(); err == nil {
		c = append(c, filepath.Join(filepath.Dir(exe), "..", ".cache", "onnxruntime", "libonnxruntime.so.1"))
	}
	return append(c, "libonnxruntime.so.1")
}

// Init loads and initialises ONNX Runtime; it is safe to call many times.
func (r *Runtime) Init() error {
	r.once.Do(func() {
		var tried []string
		for _, p := range r.candidates() {
			if filepath.IsAbs(p) || filepath.Base(p) != p {
				if _, err := os.Stat(p); err != nil {
					tried = append(tried, p+" (missing)")
					continue
				}
			}
			if ort.IsInitialized() {
				// The binding's environment is process-wide: another Runtime set it up.
				r.path = p
				return
			}
			ort.SetSharedLibraryPath(p)
			if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
				tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
				continue
			}
			r.path = p
			return
		}
		r.err = fmt.Errorf("%w (need ONNX Runtime %s; run `make onnxruntime` or set %s): tried %v",
			ErrNoRuntime, RuntimeVersion, LibraryEnv, tried)
	})
	return r.err
}

// Path returns the library that was loaded (after a successful Init).
func (r *Runtime) Path() string { return r.path }
