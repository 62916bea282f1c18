package runner

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/probe"
)

// NoCUDAWorker, as Options.CUDAWorker, turns the GPU probe off: trials run in this binary.
const NoCUDAWorker = "off"

// gpuRoute is where a run's trials go when this binary has no CUDA backend (see routeGPU).
type gpuRoute struct {
	// worker is the CUDA worker command line before the spec path, when a GPU is usable.
	worker []string
	// note is the backend reason for trials that run on the CPU because no GPU is usable.
	note string
}

// routeGPU decides, for a build without the CUDA backend (the default bin/etch), where trials
// that request `auto` or `cuda` run. It probes the CUDA build (bin/etch-cuda, see package probe)
// in a subprocess that cannot take this process down:
//
//   - a usable GPU: the trials run in etch-cuda worker processes (`etch-cuda trial run SPEC`,
//     the process executor), which open the CUDA backend themselves;
//   - none, backend auto: the trials run here on the CPU, and the report says why;
//   - none, backend cuda: an error wrapping kernels.ErrNoDevice, before any trial starts.
//
// Builds with a device backend, other backends, other executors (a cluster's nodes decide for
// themselves) and runs with nothing pending are left alone (a zero route).
func routeGPU(ctx context.Context, exp *config.Experiment, opts Options, kind string, pending int, log *slog.Logger) (gpuRoute, error) {
	b := exp.Backend
	if pending == 0 || (b != "" && b != "auto" && b != "cuda") || (kind != "local" && kind != "process") {
		return gpuRoute{}, nil
	}
	if opts.OpenBackend != nil || hasDevice(DefaultOpeners()) || opts.CUDAWorker == NoCUDAWorker {
		return gpuRoute{}, nil
	}
	worker := opts.CUDAWorker
	if worker == "" {
		worker = probe.FindWorker()
	}
	run := opts.ProbeGPU
	if run == nil {
		run = func(ctx context.Context, worker string) (*probe.Report, error) { return probe.Run(ctx, worker, 0) }
	}
	rep, err := run(ctx, worker)
	if ctx.Err() != nil {
		return gpuRoute{}, ctx.Err()
	}
	if err != nil {
		if b == "cuda" {
			return gpuRoute{}, fmt.Errorf("backend cuda: %w: %w", kernels.ErrNoDevice, err)
		}
		log.Info("no usable GPU; trials run on the CPU", "reason", err)
		return gpuRoute{note: fmt.Sprintf("auto: %v; using cpu", err)}, nil
	}
	log.Info("GPU found; trials run in CUDA worker processes", "gpu", rep.GPUs[0].String(), "worker", worker)
	return gpuRoute{worker: []string{worker, "trial", "run"}}, nil
}
