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
	"math"
	"runtime"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda/cusrc"
)

// MaxArch is the newest virtual architecture CUDA 11.8's NVRTC compiles for.
const MaxArch = 90

// Backend is a kernels.Backend on one CUDA device.
type Backend struct {
	device0 cu.Device
	ctx     cu.CUContext
	blas    *cublas.Standard
	arch    string
	device  string
	log     *slog.Logger

	mu      sync.Mutex
	err     error
	fns     map[string]cu.Function
	scratch cu.DevicePtr // reusable space for reduction results
	scrLen  int64        // bytes
}

var (
	_ kernels.Backend       = (*Backend)(nil)
	_ kernels.BatchedGemmer = (*Backend)(nil)
	_ kernels.LSTMCeller    = (*Backend)(nil)
	_ kernels.GRUCeller     = (*Backend)(nil)
	_ kernels.AdamStepper   = (*Backend)(nil)
)

// New opens device ordinal (0 for the first GPU): it retains the primary context, creates a
// cuBLAS handle, and compiles and loads every kernel module with NVRTC.
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
	be := &Backend{device0: dev, ctx: ctx, arch: info.Arch, log: log, fns: map[string]cu.Function{},
		device: fmt.Sprintf("%s (sm_%d%d, %d MiB, CUDA driver %d)", info.Name, info.Major, info.Minor, info.MemoryMiB, cu.Version())}
	impl, err := newBLAS()
	if err != nil {
		return nil, err
	}
	be.blas = impl
	if err := be.loadModules(); err != nil {
		return nil, err
	}
	log.Info("cuda backend", "device", be.device, "ptx", be.arch)
	return be, nil
}

// newBLAS creates the cuBLAS handle, turning its panic on failure into an error.
func newBLAS() (impl *cublas.Standard, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: cublas: %v", r)
		}
	}()
	return cublas.New(), nil
}

// loadModules compiles every source for the device's architecture and resolves the kernels.
func (be *Backend) loadModules() error {
	mods := map[string]cu.Module{}
	for _, src := range cusrc.Sources() {
		ptx, log, err := cusrc.Compile(src, be.arch)
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		if log != "" {
			be.log.Warn("cuda: nvrtc diagnostics", "source", src.Name, "log", log)
		}
		m, err := cu.LoadData(ptx)
		if err != nil {
			return fmt.Errorf("cuda: load module %s (%s): %w", src.Name, be.arch, err)
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
		be.fns[name] = fn
	}
	return nil
}

// Name returns "cuda".
func (be *Backend) Name() string { return "cuda" }

// Device describes the GPU: name, compute capability, memory and driver version.
func (be *Backend) Device() string { return be.device }

// do runs f with the backend's context current on a locked OS thread, under the mutex. The first
// error (of f or of an earlier call) is kept; after it, f is not run.
func (be *Backend) do(op string, f func() error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.err != nil {
		return
	}
	if err := cu.SetCurrentContext(be.ctx); err != nil {
		be.err = fmt.Errorf("cuda: %s: set context: %w", op, err)
		return
	}
	if err := f(); err != nil {
		be.err = fmt.Errorf("cuda: %s: %w", op, err)
	}
}

// Sync waits for the queued work and returns the first error of any earlier call.
func (be *Backend) Sync() error {
	be.do("Sync", cu.Synchronize)
	be.mu.Lock()
	defer be.mu.Unlock()
	return be.err
}

// Err returns the first error recorded so far without synchronising.
func (be *Backend) Err() error {
	be.mu.Lock()
	defer be.mu.Unlock()
	return be.err
}

// buffer is device memory: a whole allocation or a view into one.
type buffer struct {
	be    *Backend
	alloc *allocation
	off   int // elements from the allocation's start
	n     int
}

type allocation struct {
	ptr   cu.DevicePtr
	n     int
	freed bool
}

// Len returns the number of float32 elements.
func (b *buffer) Len() int { return b.n }

func (b *buffer) ptr() cu.DevicePtr { return b.alloc.ptr + cu.DevicePtr(4*b.off) }

// dev returns the device buffer behind b with at least n elements, panicking (like a BLAS
// argument check) on a foreign, freed or short buffer.
func (be *Backend) dev(op, arg string, b kernels.Buffer, n int) *buffer {
	cb, ok := b.(*buffer)
	if !ok || cb == nil || cb.be != be {
		panic(fmt.Sprintf("kernels/cuda: %s: %s is not a buffer of this backend (%T)", op, arg, b))
	}
	if cb.alloc.freed {
		panic(fmt.Sprintf("kernels/cuda: %s: %s was freed", op, arg))
	}
	if n > cb.n {
		panic(fmt.Sprintf("kernels/cuda: %s: %s has %d elements, need %d", op, arg, cb.n, n))
	}
	return cb
}

func checkDims(op string, dims ...int) {
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("kernels/cuda: %s: negative dimension in %v", op, dims))
		}
	}
}

// span is the number of elements a rows×cols block with row stride ld covers.
func span(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// Alloc returns a zeroed buffer of n elements. Device memory is released by Free, or when the
// buffer and all its views are garbage.
func (be *Backend) Alloc(n int) kernels.Buffer {
	checkDims("Alloc", n)
	a := &allocation{n: n}
	if n > 0 {
		be.do("Alloc", func() error {
			p, err := cu.MemAlloc(int64(n) * 4)
			if err != nil {
				return fmt.Errorf("%d floats: %w", n, err)
			}
			a.ptr = p
			return cu.MemsetD32(p, 0, int64(n))
		})
		if a.ptr != 0 {
			runtime.AddCleanup(a, func(p cu.DevicePtr) { be.do("free", func() error { return cu.MemFree(p) }) }, a.ptr)
		}
	}
	if err := be.Err(); err != nil {
		panic(fmt.Sprintf("kernels/cuda: Alloc(%d): %v", n, err))
	}
	return &buffer{be: be, alloc: a, n: n}
}

// Free releases b's memory now. Freeing a view does nothing (its allocation is released with the
// allocation's own buffer). Free(nil) is a no-op.
func (be *Backend) Free(b kernels.Buffer) {
	if b == nil {
		return
	}
	cb, ok := b.(*buffer)
	if !ok || cb == nil || cb.be != be || cb.off != 0 || cb.n != cb.alloc.n || cb.alloc.freed || cb.alloc.ptr == 0 {
		return
	}
	a := cb.alloc
	a.freed = true
	p := a.ptr
	a.ptr = 0
	be.do("Free", func() error { return cu.MemFree(p) })
}

// Upload copies src into dst.
func (be *Backend) Upload(dst kernels.Buffer, src []float32) {
	d := be.dev("Upload", "dst", dst, len(src))
	if len(src) == 0 {
		return
	}
	be.do("Upload", func() error {
		return cu.MemcpyHtoD(d.ptr(), unsafe.Pointer(&src[0]), int64(len(src))*4)
	})
}

// Download copies the first len(dst) elements of src into dst after the queued work. After a
// device error dst is filled with NaN (Sync returns the error).
func (be *Backend) Download(dst []float32, src kernels.Buffer) {
	s := be.dev("Download", "src", src, len(dst))
	if len(dst) == 0 {
		return
	}
	ok := false
	be.do("Download", func() error {
		if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), s.ptr(), int64(len(dst))*4); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if !ok {
		nan := float32(math.NaN())
		for i := range dst {
			dst[i] = nan
		}
	}
}

// View returns n elements of b from off, sharing memory.
func (be *Backend) View(b kernels.Buffer, off, n int) kernels.Buffer {
	cb := be.dev("View", "b", b, 0)
	if off < 0 || n < 0 || off+n > cb.n {
		panic(fmt.Sprintf("kernels/cuda: View: [%d, %d) out of range of %d elements", off, off+n, cb.n))
	}
	return &buffer{be: be, alloc: cb.alloc, off: cb.off + off, n: n}
}

// Copy copies src into the first src.Len() elements of dst.
func (be *Backend) Copy(dst, src kernels.Buffer) {
	s := be.dev("Copy", "src", src, 0)
	d := be.dev("Copy", "dst", dst, s.n)
	if s.n == 0 {
		return
	}
	be.do("Copy", func() error { return cu.MemcpyDtoD(d.ptr(), s.ptr(), int64(s.n)*4) })
}

// Fill sets every element of b to v.
func (be *Backend) Fill(b kernels.Buffer, v float32) {
	d := be.dev("Fill", "b", b, 0)
	be.launch("Fill", "fill", d.n, d, d.n, v)
}

// arg is one kernel parameter: a device buffer, an int (passed as long long), a float32, a
// uint64, or nil (a null pointer).
type arg any

// blockSize is the thread-block size of elementwise launches (reductions use RBLOCK = 256 too).
const blockSize = 256

// maxGrid caps the blocks of a grid-stride launch.
const maxGrid = 65535

// launch runs kernel fn over n threads (grid-stride loops cover any n).
func (be *Backend) launch(op, fn string, n int, args ...arg) {
	if n <= 0 {
		return
	}
	blocks := min((n+blockSize-1)/blockSize, maxGrid)
	be.launchGrid(op, fn, blocks, args...)
}

// launchGrid runs kernel fn on blocks blocks of blockSize threads. Every parameter is passed as
// a 64-bit value (gorgonia.org/cu copies 8 bytes per parameter): pointers and ints fill it,
// float32 occupies its low half (little-endian), which is what a float parameter reads.
func (be *Backend) launchGrid(op, fn string, blocks int, args ...arg) {
	f, ok := be.fns[fn]
	if !ok {
		panic(fmt.Sprintf("kernels/cuda: %s: no kernel %s", op, fn))
	}
	vals := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case *buffer:
			vals[i] = uint64(v.ptr())
		case cu.DevicePtr:
			vals[i] = uint64(v)
		case int:
			vals[i] = uint64(int64(v))
		case float32:
			vals[i] = uint64(math.Float32bits(v))
		case uint64:
			vals[i] = v
		case nil:
			vals[i] = 0
		default:
			panic(fmt.Sprintf("kernels/cuda: %s: parameter %d of %s has type %T", op, i, fn, a))
		}
	}
	params := make([]unsafe.Pointer, len(vals))
	for i := range vals {
		params[i] = unsafe.Pointer(&vals[i])
	}
	be.do(op, func() error { return f.Launch(blocks, 1, 1, blockSize, 1, 1, 0, cu.Stream{}, params) })
}

// floats views device memory as a []float32 for gorgonia.org/cu/blas, which passes &s[0] to
// cuBLAS as the device pointer. The slice is never read or written by Go.
func floats(p cu.DevicePtr, n int) []float32 {
	if p == 0 {
		// An empty operand (k == 0): cuBLAS does not read it, but the binding takes &s[0].
		return make([]float32, 1)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(C.devFloats(C.uint64_t(p)))), max(n, 1))
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C (row-major) with cublasSgemm: a row-major C is a
// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands are swapped and the shapes transposed.
func (be *Backend) Gemm(transA, transB bool, m, n, k int, alpha float32, a kernels.Buffer, lda int, b kernels.Buffer, ldb int,
	beta float32, c kernels.Buffer, ldc int) {
	be.gemm("Gemm", transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1)
}

// GemmStridedBatched runs batch GEMMs on strided operands (one cuBLAS call each, queued in order).
func (be *Backend) GemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a kernels.Buffer, lda, strideA int,
	b kernels.Buffer, ldb, strideB int, beta float32, c kernels.Buffer, ldc, strideC int, batch int) {
	be.gemm("GemmStridedBatched", transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
}

func (be *Backend) gemm(op string, transA, transB bool, m, n, k int, alpha float32, a kernels.Buffer, lda, sa int,
	b kernels.Buffer, ldb, sb int, beta float32, c kernels.Buffer, ldc, sc int, batch int) {
	checkDims(op, m, n, k, batch, sa, sb, sc)
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) {
		panic(fmt.Sprintf("kernels/cuda: %s: leading dimensions lda=%d ldb=%d ldc=%d too small for %dx%d, %dx%d, %dx%d",
			op, lda, ldb, ldc, ar, ac, br, bc, m, n))
	}
	if m == 0 || n == 0 || batch == 0 {
		return
	}
	last := func(s, sp int) int { return (batch-1)*s + sp }
	ab := be.dev(op, "a", a, last(sa, span(ar, ac, lda)))
	bb := be.dev(op, "b", b, last(sb, span(br, bc, ldb)))
	cb := be.dev(op, "c", c, last(sc, span(m, n, ldc)))
	// k == 0 is left to cuBLAS, which then computes C = beta*C as BLAS specifies.
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	be.do(op, func() error {
		for i := 0; i < batch; i++ {
			pa := ab.ptr() + cu.DevicePtr(4*sa*i)
			pb := bb.ptr() + cu.DevicePtr(4*sb*i)
			pc := cb.ptr() + cu.DevicePtr(4*sc*i)
			be.blas.Sgemm(tB, tA, n, m, k, alpha, floats(pb, 1), ldb, floats(pa, 1), lda, beta, floats(pc, 1), ldc)
			if err := be.blas.Err(); err != nil {
				return fmt.Errorf("cublasSgemm: %w", err)
			}
		}
		return nil
	})
}
