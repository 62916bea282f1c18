//go:build cuda

package cusrc

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// These tests need libnvrtc (make cuda-check provides it) but no GPU: this package does not
// import gorgonia.org/cu.

var entryRE = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)

// TestCompileAll compiles every source for the architectures etch ships for: no diagnostics, and
// every kernel of the Kernels table is an entry of its module's PTX (and no kernel is unlisted).
func TestCompileAll(t *testing.T) {
	srcs := Sources()
	if len(srcs) == 0 {
		t.Fatal("no embedded sources")
	}
	declared := map[string]string{}
	for _, src := range srcs {
		for _, m := range entryRE.FindAllStringSubmatch(src.Code, -1) {
			declared[m[1]] = Module(src)
		}
	}
	for name, mod := range Kernels {
		if declared[name] != mod {
			t.Errorf("kernel %s: listed in module %s, declared in %q", name, mod, declared[name])
		}
	}
	for name := range declared {
		if _, ok := Kernels[name]; !ok {
			t.Errorf("kernel %s is declared but not in Kernels", name)
		}
	}
	for _, arch := range []string{"compute_80", "compute_90"} {
		for _, src := range srcs {
			ptx, log, err := Compile(src, arch)
			if err != nil || log != "" {
				t.Fatalf("%s %s: %v\n%s", src.Name, arch, err, log)
			}
			if !strings.Contains(ptx, ".target sm_"+strings.TrimPrefix(arch, "compute_")) {
				t.Errorf("%s %s: PTX has no matching .target", src.Name, arch)
			}
			for name, mod := range Kernels {
				if mod == Module(src) && !strings.Contains(ptx, ".entry "+name+"(") {
					t.Errorf("%s %s: no .entry %s in the PTX", src.Name, arch, name)
				}
			}
		}
	}
}

// TestDiagnostics: warnings come back in the log (which nvrtc-check treats as a failure) and
// errors as a *Diagnostic naming the source.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name, code string
		wantErr    bool
		wantLog    string
	}{
		{"warning", "#include \"common.cuh\"\nextern \"C\" __global__ void k(float *x) { int unused = 1; x[0] = 0; }\n", false, "unused"},
		{"error", "extern \"C\" __global__ void k(float *x) { x[0] = undefined_name; }\n", true, "undefined_name"},
		{"clean", "extern \"C\" __global__ void k(float *x) { x[0] = 1.0f; }\n", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, log, err := Compile(Source{Name: tc.name + ".cu", Code: tc.code}, "compute_80")
			var d *Diagnostic
			if tc.wantErr != (err != nil) || (tc.wantErr && (!errors.As(err, &d) || d.Source != tc.name+".cu")) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(log, tc.wantLog) || (tc.wantLog == "") != (log == "") {
				t.Errorf("log %q, want it to contain %q", log, tc.wantLog)
			}
		})
	}
}

func TestSourcesSorted(t *testing.T) {
	var names []string
	for _, s := range Sources() {
		names = append(names, s.Name)
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "rnn.cu") {
		t.Errorf("sources %v", names)
	}
}
