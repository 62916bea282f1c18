//go:build !cuda && !cudaemu

package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/probe"
)

// fakeProbe answers the GPU probe without a subprocess and counts its calls.
func fakeProbe(rep *probe.Report, err error, calls *int) func(context.Context, string) (*probe.Report, error) {
	return func(context.Context, string) (*probe.Report, error) {
		*calls++
		return rep, err
	}
}

func TestRouteGPU(t *testing.T) {
	noGPU := fmt.Errorf("%w: etch-cuda devices: exit status 1: no CUDA-capable device is detected", probe.ErrNoGPU)
	tests := []struct {
		name      string
		backend   string
		executor  string
		probeErr  error
		wantCalls int
		wantErr   error
		wantNote  string // substring of the note
		wantProc  bool   // routed to worker processes
	}{
		{"auto, no GPU", "auto", "local", noGPU, 1, nil, "auto: no usable CUDA device: etch-cuda devices: exit status 1", false},
		{"cuda, no GPU", "cuda", "local", noGPU, 1, kernels.ErrNoDevice, "", false},
		{"auto, GPU", "auto", "local", nil, 1, nil, "", true},
		{"cuda, GPU, process", "cuda", "process", nil, 1, nil, "", true},
		{"cpu", "cpu", "local", noGPU, 0, nil, "", false},
		{"cluster executor decides on its nodes", "cuda", "slurm", noGPU, 0, nil, "", false},
	}
	gpu := &probe.Report{GPUs: []probe.GPU{{Name: "Fake GPU", Major: 9, Arch: "compute_90"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: "+tc.backend, 1))
			calls := 0
			o := f.opts("run")
			o.CUDAWorker = "/opt/etch/etch-cuda"
			rep := gpu
			if tc.probeErr != nil {
				rep = nil
			}
			o.ProbeGPU = fakeProbe(rep, tc.probeErr, &calls)
			route, err := routeGPU(context.Background(), f.exp, o, tc.executor, 3, nopLog())
			if calls != tc.wantCalls {
				t.Errorf("probe calls = %d, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), "no CUDA-capable device") {
					t.Fatalf("err = %v, want %v with the probe's reason", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(route.note, tc.wantNote) || (tc.wantNote == "") != (route.note == "") {
				t.Errorf("note %q, want %q", route.note, tc.wantNote)
			}
			if got := route.worker != nil; got != tc.wantProc {
				t.Errorf("routed to workers: %v, want %v", got, tc.wantProc)
			}
			if tc.wantProc && strings.Join(route.worker, " ") != "/opt/etch/etch-cuda trial run" {
				t.Errorf("worker command %q", route.worker)
			}
		})
	}
}

// TestRunFallsBackToCPU: backend auto without a GPU runs on the CPU and the report says why.
func TestRunFallsBackToCPU(t *testing.T) {
	f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: auto", 1))
	o := f.opts("run")
	o.CacheDir = "off"
	calls := 0
	o.ProbeGPU = fakeProbe(nil, fmt.Errorf("%w: etch-cuda devices: exit status 127: libcuda.so.1: cannot open shared object file", probe.ErrNoGPU), &calls)
	out, err := Run(context.Background(), f.exp, o)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("probed %d times, want once per run", calls)
	}
	b := out.Results.Backend
	if b.Used != "cpu" || !strings.Contains(b.Reason, "libcuda.so.1") || !strings.HasSuffix(b.Reason, "; using cpu") {
		t.Errorf("backend %+v", b)
	}
	md, err := os.ReadFile(filepath.Join(out.Dir, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "libcuda.so.1") {
		t.Error("report does not say why the GPU was not used")
	}
}

// TestRunOnGPUWorker: with a GPU, trials go to the CUDA worker binary (here a script that records
// its arguments and fails, so the trials fail with its output).
func TestRunOnGPUWorker(t *testing.T) {
	f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: cuda", 1))
	o := f.opts("run")
	o.CacheDir = "off"
	marker := filepath.Join(f.dir, "calls")
	worker := filepath.Join(f.dir, "etch-cuda")
	script := "#!/bin/sh\necho \"$1 $2\" >> " + marker + "\necho 'fake etch-cuda: no kernels here' >&2\nexit 1\n"
	if err := os.WriteFile(worker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o.CUDAWorker = worker
	calls := 0
	o.ProbeGPU = fakeProbe(&probe.Report{GPUs: []probe.GPU{{Name: "Fake GPU"}}}, nil, &calls)
	out, err := Run(context.Background(), f.exp, o)
	if err != nil {
		t.Fatal(err)
	}
	if out.Failed != 3 || !strings.Contains(out.Results.Trials[0].LogTail, "fake etch-cuda") {
		t.Fatalf("failed %d, first trial %+v", out.Failed, out.Results.Trials[0])
	}
	b, err := os.ReadFile(marker)
	if err != nil || strings.Count(string(b), "trial run\n") != 3 {
		t.Errorf("worker calls %q: %v", b, err)
	}
}

func TestRouteGPUCancelled(t *testing.T) {
	f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: auto", 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := f.opts("run")
	o.CUDAWorker = "/nonexistent/etch-cuda"
	if _, err := routeGPU(ctx, f.exp, o, "local", 1, nopLog()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// TestCachedCPUResultsRerunOnGPU: backend auto results cached on a machine without a GPU are
// taken from the cache while there is still no GPU, and run again (on the CUDA worker) once one is
// usable.
func TestCachedCPUResultsRerunOnGPU(t *testing.T) {
	f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: auto", 1))
	o := f.opts("run")
	calls := 0
	o.CUDAWorker = filepath.Join(f.dir, "etch-cuda")
	o.ProbeGPU = fakeProbe(nil, fmt.Errorf("%w: no CUDA-capable device is detected", probe.ErrNoGPU), &calls)
	out, err := Run(context.Background(), f.exp, o)
	if err != nil || out.Ran != 3 || out.Failed != 0 {
		t.Fatalf("first run: %+v, %v", out, err)
	}
	out, err = Run(context.Background(), f.exp, o)
	if err != nil || out.Cached != 3 || out.Ran != 0 {
		t.Fatalf("second run without a GPU: %+v, %v", out, err)
	}
	marker := filepath.Join(f.dir, "calls")
	script := "#!/bin/sh\necho \"$1 $2\" >> " + marker + "\necho 'fake etch-cuda' >&2\nexit 1\n"
	if err := os.WriteFile(o.CUDAWorker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o.ProbeGPU = fakeProbe(&probe.Report{GPUs: []probe.GPU{{Name: "Fake GPU"}}}, nil, &calls)
	out, err = Run(context.Background(), f.exp, o)
	if err != nil || out.Cached != 0 || out.Ran != 3 {
		t.Fatalf("run with a GPU: cached %d, ran %d, %v", out.Cached, out.Ran, err)
	}
	if b, err := os.ReadFile(marker); err != nil || strings.Count(string(b), "trial run\n") != 3 {
		t.Errorf("worker calls %q: %v", b, err)
	}
}
