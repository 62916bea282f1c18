//go:build cuda

package cuda

import (
	"context"
	"fmt"

	"gorgonia.org/cu"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/probe"
)

// Arch returns the NVRTC virtual architecture for compute capability major.minor: the device's
// own, capped at compute_90 (CUDA 11.8's NVRTC), whose PTX the driver JIT-compiles for newer GPUs.
func Arch(major, minor int) string {
	cc := min(major*10+minor, MaxArch)
	return fmt.Sprintf("compute_%d", cc)
}

// describe returns the probe description of a device.
func describe(dev cu.Device, ordinal int) (probe.GPU, error) {
	g := probe.GPU{Index: ordinal}
	var err error
	if g.Name, err = dev.Name(); err != nil {
		return g, fmt.Errorf("cuda: device %d: name: %w", ordinal, err)
	}
	if g.Major, g.Minor, err = dev.ComputeCapability(); err != nil {
		return g, fmt.Errorf("cuda: device %d: compute capability: %w", ordinal, err)
	}
	mem, err := dev.TotalMem()
	if err != nil {
		return g, fmt.Errorf("cuda: device %d: memory: %w", ordinal, err)
	}
	g.MemoryMiB = mem >> 20
	if g.SMs, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return g, fmt.Errorf("cuda: device %d: multiprocessors: %w", ordinal, err)
	}
	g.Arch = Arch(g.Major, g.Minor)
	return g, nil
}

// Devices enumerates the CUDA devices (the process got here, so cuInit succeeded).
func Devices() (*probe.Report, error) {
	r := &probe.Report{Driver: cu.Version()}
	n, err := cu.NumDevices()
	if err != nil {
		return r, fmt.Errorf("cuda: count devices: %w", err)
	}
	for i := range n {
		dev, err := cu.GetDevice(i)
		if err != nil {
			return r, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		g, err := describe(dev, i)
		if err != nil {
			return r, err
		}
		r.GPUs = append(r.GPUs, g)
	}
	if len(r.GPUs) == 0 {
		r.Error = "the CUDA driver reports no devices"
	}
	return r, nil
}

// Opener opens the CUDA backend on device Ordinal (0: the first GPU).
type Opener struct {
	Ordinal int
}

// Name returns "cuda".
func (Opener) Name() string { return "cuda" }

// Probe reports whether device Ordinal exists.
func (o Opener) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if o.Ordinal >= n {
		return fmt.Errorf("cuda: device %d of %d: %w", o.Ordinal, n, kernels.ErrNoDevice)
	}
	return nil
}

// Open opens the backend (compiling the kernels with NVRTC, a second or so).
func (o Opener) Open(ctx context.Context, opts kernels.Options) (kernels.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return New(o.Ordinal, opts)
}
