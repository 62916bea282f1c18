package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner/runnertest"
	"github.com/etchlab/etch/kernels/probe"
)

const fakeGPUJSON = `{"driver":12040,"gpus":[{"index":0,"name":"Fake H100","major":9,"minor":0,"arch":"compute_90","memory_mib":81559,"sms":132}]}`

// fakeCUDA writes a script standing in for bin/etch-cuda: `devices --json` prints devices (or
// fails), `trial run SPEC` runs the trial in this test binary acting as etch (a default build:
// the trial then runs on the CPU, which is all a machine without a GPU can check).
func fakeCUDA(t *testing.T, devices string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "etch-cuda")
	script := "#!/bin/sh\ncase \"$1\" in\ndevices) " + devices + " ;;\n" +
		"trial) echo \"$*\" >> " + filepath.Join(dir, "trials") + "; " + asEtch + "=1 exec '" + exe + "' \"$@\" ;;\nesac\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDevices(t *testing.T) {
	tests := []struct {
		name, devices string
		args          []string
		want          []string
	}{
		{"gpu", "echo '" + fakeGPUJSON + "'", nil,
			[]string{"cpu: ", " threads, features: ", "cuda: 1 device(s), driver 12.4, via ", "gpu 0: Fake H100 (sm_90, 81559 MiB, 132 SMs), kernels for compute_90"}},
		{"no device", "echo 'Error in initialization: no CUDA-capable device is detected'; exit 1", nil,
			[]string{"cpu: ", "cuda: none (no usable CUDA device: etch-cuda devices: exit status 1: Error in initialization: no CUDA-capable device is detected)"}},
		{"json", "echo '" + fakeGPUJSON + "'", []string{"--json"}, []string{`"name": "Fake H100"`, `"features": [`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := fakeCUDA(t, tc.devices)
			code, out, errs := runCLI(t, append([]string{"devices", "--cuda-bin", bin}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.name == "json" {
				var r devicesReport
				if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.GPUs) != 1 || r.CPU.Threads < 1 {
					t.Errorf("json %+v: %v", r, err)
				}
			}
		})
	}
	if code, _, _ := runCLI(t, "devices", "extra"); code != 2 {
		t.Errorf("devices extra: exit %d, want 2", code)
	}
}

// TestRunRoutesToCUDAWorker: with `backend: auto` and a (fake) GPU, `etch run` runs every trial in
// the CUDA worker binary; without one, in this process on the CPU with the reason in the report;
// `backend: cuda` without one fails before any trial.
func TestRunRoutesToCUDAWorker(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 200, Seed: 1, SeqLen: 10}); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "gpu.yaml")
	yaml := "name: gpu\nseed: 1\nbackend: auto\ndata:\n  path: " + ds + "\nmodels:\n  - {name: rf, type: forest, trees: 3}\n"
	if err := os.WriteFile(exp, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}

	gpu := fakeCUDA(t, "echo '"+fakeGPUJSON+"'")
	t.Setenv(probe.WorkerEnv, gpu)
	out := filepath.Join(dir, "run-gpu")
	code, stdout, stderr := runCLI(t, "run", exp, "--out", out, "--cache", "off", "--progress", "none")
	if code != 0 {
		if r, err := report.Load(out); err == nil && len(r.Trials) > 0 {
			stderr += "\n" + r.Trials[0].Error + "\n" + r.Trials[0].LogTail
		}
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	calls, err := os.ReadFile(filepath.Join(filepath.Dir(gpu), "trials"))
	if err != nil || !strings.HasPrefix(string(calls), "trial run ") {
		t.Fatalf("the CUDA worker ran no trial: %q %v\n%s", calls, err, stderr)
	}
	res, err := report.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trials[0].Error != "" || res.Backend.Requested != "auto" {
		t.Errorf("trial %q, backend %+v", res.Trials[0].Error, res.Backend)
	}

	t.Setenv(probe.WorkerEnv, fakeCUDA(t, "echo 'no CUDA-capable device is detected'; exit 1"))
	out = filepath.Join(dir, "run-cpu")
	code, stdout, stderr = runCLI(t, "run", exp, "--out", out, "--cache", "off", "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err = report.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend.Used != "cpu" || !strings.Contains(res.Backend.Reason, "no CUDA-capable device is detected") {
		t.Errorf("backend %+v", res.Backend)
	}

	code, _, stderr = runCLI(t, "run", exp, "--set", "backend=cuda", "--out", filepath.Join(dir, "run-cuda"), "--cache", "off", "--progress", "none")
	if code != 1 || !strings.Contains(stderr, "backend cuda: kernels: no usable device") {
		t.Errorf("backend cuda without a GPU: exit %d, %s", code, stderr)
	}
}
