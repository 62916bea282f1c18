package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fake writes an executable shell script standing in for bin/etch-cuda.
func fake(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etch-cuda")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

const oneGPU = `{"driver":12040,"gpus":[{"index":0,"name":"NVIDIA H100 80GB HBM3","major":9,"minor":0,"arch":"compute_90","memory_mib":81559,"sms":132}]}`

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		gpus    int
		errHas  []string // substrings of the error; nil: no error
	}{
		{"one GPU", `[ "$1 $2" = "devices --json" ] || exit 3; echo '` + oneGPU + `'`, 0, 1, nil},
		{"cu init exits", `echo 'Error in initialization, please refer to "x" for details on: no CUDA-capable device is detected'; exit 1`, 0, 0,
			[]string{"exit status 1", "no CUDA-capable device is detected"}},
		{"no libcuda", `echo 'etch-cuda: error while loading shared libraries: libcuda.so.1: cannot open shared object file' >&2; exit 127`, 0, 0,
			[]string{"exit status 127", "libcuda.so.1"}},
		{"crash", `kill -SEGV $$`, 0, 0, []string{"signal: segmentation fault"}},
		{"hang", `sleep 30`, 300 * time.Millisecond, 0, []string{"timed out after 300ms"}},
		{"garbage", `echo 'not json'`, 0, 0, []string{"unreadable output"}},
		{"zero GPUs", `echo '{"driver":12040,"gpus":[],"error":"the CUDA driver reports no devices"}'`, 0, 0, []string{"the CUDA driver reports no devices"}},
		{"signals its group", `kill -TERM 0; sleep 1; echo '` + oneGPU + `'`, 0, 0, []string{"signal: terminated"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := Run(context.Background(), fake(t, tc.script), tc.timeout)
			if tc.errHas == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(r.GPUs) != tc.gpus || r.GPUs[0].Arch != "compute_90" || r.Driver != 12040 {
					t.Fatalf("report %+v", r)
				}
				return
			}
			if !errors.Is(err, ErrNoGPU) {
				t.Fatalf("err = %v, want ErrNoGPU", err)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), t.TempDir()) {
				t.Errorf("err %q names the worker's directory (reports must not depend on it)", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("probe took %v", d) // a bound on a hang, not a timing assertion
			}
		})
	}
}

func TestRunNoWorker(t *testing.T) {
	_, err := Run(context.Background(), "", 0)
	if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "make cuda") {
		t.Errorf("err = %v", err)
	}
	_, err = Run(context.Background(), filepath.Join(t.TempDir(), "missing"), 0)
	if !errors.Is(err, ErrNoGPU) {
		t.Errorf("missing binary: %v", err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, fake(t, "sleep 30"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestFindWorker(t *testing.T) {
	t.Setenv(WorkerEnv, "/opt/etch/etch-cuda")
	if got := FindWorker(); got != "/opt/etch/etch-cuda" {
		t.Errorf("FindWorker() = %q", got)
	}
	t.Setenv(WorkerEnv, "")
	if got := FindWorker(); got != "" {
		t.Errorf("FindWorker() = %q beside the test binary, want none", got)
	}
}

func TestParseCPUInfo(t *testing.T) {
	tests := []struct {
		name, text string
		want       CPU
	}{
		{"x86", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw\n\nprocessor\t: 1\nflags\t\t: fpu\n",
			CPU{Model: "Intel(R) Xeon(R) Platinum 8481C", Threads: 2, Features: []string{"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw"}}},
		{"arm", "processor\t: 0\nFeatures\t: fp asimd evtstrm sve\n", CPU{Model: "arm64", Threads: 2, Features: []string{"asimd", "sve"}}},
		{"empty", "", CPU{Model: "arm64", Threads: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseCPUInfo([]byte(tc.text), CPU{Model: "arm64", Threads: 2})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGPUString(t *testing.T) {
	g := GPU{Index: 0, Name: "NVIDIA H100", Major: 9, Minor: 0, MemoryMiB: 81559, SMs: 132}
	if s := g.String(); s != "0: NVIDIA H100 (sm_90, 81559 MiB, 132 SMs)" {
		t.Errorf("String() = %q", s)
	}
}

func ExampleRun() {
	// Without a CUDA build of etch there is no GPU, and the probe says why.
	_, err := Run(context.Background(), "", 0)
	fmt.Println(errors.Is(err, ErrNoGPU))
	// Output: true
}
