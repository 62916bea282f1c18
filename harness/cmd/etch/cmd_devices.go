package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/etchlab/etch/kernels/probe"
)

// devicesReport is what `etch devices --json` prints: probe.Report plus the CPU and, in the
// default build, which CUDA binary was asked.
type devicesReport struct {
	CPU probe.CPU `json:"cpu"`
	probe.Report
	// Worker is the CUDA build the default build probed ("" in the CUDA build itself).
	Worker string `json:"worker,omitempty"`
}

// runDevices lists the compute devices: the CPU (model, threads, SIMD features) always; GPUs
// through the CUDA backend when this is the CUDA build, else by probing bin/etch-cuda in a
// subprocess (which cannot take this process down). No GPU is not an error.
func runDevices(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "devices", "")
	asJSON := fs.Bool("json", false, "print a JSON report (the format the GPU probe reads)")
	worker := fs.String("cuda-bin", "", "the CUDA build of etch to probe (default $"+probe.WorkerEnv+", else etch-cuda beside this binary)")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "how long the GPU probe may take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: devices takes no arguments", errUsage)
	}
	out := devicesReport{CPU: probe.LocalCPU()}
	rep, err := localGPUs()
	if err == errNoCUDABuild {
		out.Worker = *worker
		if out.Worker == "" {
			out.Worker = probe.FindWorker()
		}
		rep, err = probe.Run(ctx, out.Worker, *timeout)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if rep != nil {
		out.Report = *rep
	}
	if err != nil && out.Error == "" {
		out.Error = err.Error()
	}
	if out.GPUs == nil {
		out.GPUs = []probe.GPU{}
	}
	if *asJSON {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return nil
	}
	c := out.CPU
	fmt.Fprintf(e.stdout, "cpu: %s, %d threads, features: %s\n", c.Model, c.Threads, orNone(strings.Join(c.Features, " ")))
	if len(out.GPUs) == 0 {
		fmt.Fprintf(e.stdout, "cuda: none (%s)\n", out.Error)
		return nil
	}
	fmt.Fprintf(e.stdout, "cuda: %d device(s), driver %s", len(out.GPUs), driverVersion(out.Driver))
	if out.Worker != "" {
		fmt.Fprintf(e.stdout, ", via %s", out.Worker)
	}
	fmt.Fprintln(e.stdout)
	for _, g := range out.GPUs {
		fmt.Fprintf(e.stdout, "  gpu %s, kernels for %s\n", g, g.Arch)
	}
	return nil
}

// driverVersion formats a CUDA driver version number (12040 → "12.4").
func driverVersion(v int) string {
	if v <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}

func orNone(s string) string {
	if s == "" {
		return "none detected"
	}
	return s
}
