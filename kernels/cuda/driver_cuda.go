//go:build cuda

package cuda

/*
#include <stdint.h>
// devFloats turns a device address into a float pointer (cuBLAS takes device pointers as float*).
static float *devFloats(uint64_t p) { return (float *)(uintptr_t)p; }
*/
import "C"

import (
	"fmt"
	"log/slog"
	"runtime"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda/cusrc"
)

// MaxArch is the newest virtual architecture CUDA 11.8's NVRTC compiles for.
const MaxArch = 90

// cuDriver is the driver on a real GPU: the CUDA driver API through gorgonia.org/cu, cuBLAS,
// and the kernels of package cusrc compiled by NVRTC.
type cuDriver struct {
	ctx  cu.CUContext
	blas *cublas.Standard
	fns  map[string]cu.Function
}

// New opens device ordinal (0 for the first GPU): it retains the primary context, creates a
// cuBLAS handle, and compiles and loads every kernel module with NVRTC (about a second).
func New(ordinal int, opts kernels.Options) (*Backend, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: count devices: %w", err)
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d: %w (%d device(s))", ordinal, kernels.ErrNoDevice, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	info, err := describe(dev, ordinal)
	if err != nil {
		return nil, err
	}
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: retain context: %w", ordinal, err)
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		return nil, fmt.Errorf("cuda: device %d: set context: %w", ordinal, err)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	d := &cuDriver{ctx: ctx, fns: map[string]cu.Function{}}
	if d.blas, err = newBLAS(); err != nil {
		return nil, err
	}
	if err := d.loadModules(info.Arch, log); err != nil {
		return nil, err
	}
	be := &Backend{drv: d, log: log,
		device: fmt.Sprintf("%s (sm_%d%d, %d MiB, CUDA driver %d)", info.Name, info.Major, info.Minor, info.MemoryMiB, cu.Version())}
	log.Info("cuda backend", "device", be.device, "ptx", info.Arch)
	return be, nil
}

// newBLAS creates the cuBLAS handle (in the current context), turning its panic into an error.
func newBLAS() (impl *cublas.Standard, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: cublas: %v", r)
		}
	}()
	return cublas.New(), nil
}

// loadModules compiles every source for arch and resolves the kernels.
func (d *cuDriver) loadModules(arch string, log *slog.Logger) error {
	mods := map[string]cu.Module{}
	for _, src := range cusrc.Sources() {
		ptx, msg, err := cusrc.Compile(src, arch)
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		if msg != "" {
			log.Warn("cuda: nvrtc diagnostics", "source", src.Name, "log", msg)
		}
		m, err := cu.LoadData(ptx)
		if err != nil {
			return fmt.Errorf("cuda: load module %s (%s): %w", src.Name, arch, err)
		}
		mods[cusrc.Module(src)] = m
	}
	for name, mod := range cusrc.Kernels {
		m, ok := mods[mod]
		if !ok {
			return fmt.Errorf("cuda: kernel %s: no source %s.cu", name, mod)
		}
		fn, err := m.Function(name)
		if err != nil {
			return fmt.Errorf("cuda: kernel %s in %s.cu: %w", name, mod, err)
		}
		d.fns[name] = fn
	}
	return nil
}

func (d *cuDriver) enter() error { return cu.SetCurrentContext(d.ctx) }

func (d *cuDriver) alloc(bytes int64) (uint64, error) {
	p, err := cu.MemAlloc(bytes)
	return uint64(p), err
}

func (d *cuDriver) free(p uint64) error { return cu.MemFree(cu.DevicePtr(p)) }

func (d *cuDriver) memsetD32(p uint64, v uint32, n int64) error {
	return cu.MemsetD32(cu.DevicePtr(p), v, n)
}

func (d *cuDriver) htod(dst uint64, src unsafe.Pointer, bytes int64) error {
	return cu.MemcpyHtoD(cu.DevicePtr(dst), src, bytes)
}

func (d *cuDriver) dtoh(dst unsafe.Pointer, src uint64, bytes int64) error {
	return cu.MemcpyDtoH(dst, cu.DevicePtr(src), bytes)
}

func (d *cuDriver) dtod(dst, src uint64, bytes int64) error {
	return cu.MemcpyDtoD(cu.DevicePtr(dst), cu.DevicePtr(src), bytes)
}

// launch passes pointers to the 64-bit values (gorgonia.org/cu copies 8 bytes per parameter).
func (d *cuDriver) launch(fn string, blocks, threads int, vals []uint64) error {
	f, ok := d.fns[fn]
	if !ok {
		return fmt.Errorf("no kernel %s", fn)
	}
	ps := make([]unsafe.Pointer, len(vals))
	for i := range vals {
		ps[i] = unsafe.Pointer(&vals[i])
	}
	return f.Launch(blocks, 1, 1, threads, 1, 1, 0, cu.Stream{}, ps)
}

// floats views device memory as a []float32 for gorgonia.org/cu/blas, which passes &s[0] to
// cuBLAS as the device pointer. Go never reads or writes the slice.
func floats(p uint64) []float32 {
	if p == 0 {
		// An empty operand (k == 0): cuBLAS does not read it, but the binding takes &s[0].
		return make([]float32, 1)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(C.devFloats(C.uint64_t(p)))), 1)
}

func (d *cuDriver) sgemm(transA, transB bool, m, n, k int, alpha float32, a uint64, lda int, b uint64, ldb int, beta float32, c uint64, ldc int) error {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	d.blas.Sgemm(tA, tB, m, n, k, alpha, floats(a), lda, floats(b), ldb, beta, floats(c), ldc)
	return d.blas.Err()
}

func (d *cuDriver) sync() error { return cu.Synchronize() }

func (d *cuDriver) close() error { return d.blas.Close() }
