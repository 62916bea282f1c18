//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/etchlab/etch/kernels"
)

// driver is what the Backend needs from a device: memory, copies, kernel launches and SGEMM.
// Device addresses are uint64. The CUDA build implements it with gorgonia.org/cu and cuBLAS
// (driver_cuda.go); the cudaemu build with host memory and the same .cu kernels compiled as C++
// (emu.go), so the Backend's own logic is tested without a GPU. Every method is called with the
// backend's mutex held, on a locked OS thread, after enter.
type driver interface {
	// enter makes the device context current on this thread.
	enter() error
	alloc(bytes int64) (uint64, error)
	free(p uint64) error
	memsetD32(p uint64, v uint32, n int64) error
	htod(dst uint64, src unsafe.Pointer, bytes int64) error
	dtoh(dst unsafe.Pointer, src uint64, bytes int64) error
	dtod(dst, src uint64, bytes int64) error
	// launch runs kernel fn on blocks×threads threads; every parameter is a 64-bit value
	// (pointers and long longs fill it, a float occupies the low half).
	launch(fn string, blocks, threads int, params []uint64) error
	// sgemm is cublasSgemm: COLUMN-major C = alpha*op(A)*op(B) + beta*C, op(A) m×k.
	sgemm(transA, transB bool, m, n, k int, alpha float32, a uint64, lda int, b uint64, ldb int, beta float32, c uint64, ldc int) error
	sync() error
	close() error
}

// Backend is a kernels.Backend on one CUDA device.
type Backend struct {
	drv    driver
	device string
	log    *slog.Logger

	mu      sync.Mutex
	err     error
	scratch uint64 // reusable device space for reduction results
	scrLen  int64  // bytes
}

var (
	_ kernels.Backend       = (*Backend)(nil)
	_ kernels.BatchedGemmer = (*Backend)(nil)
	_ kernels.LSTMCeller    = (*Backend)(nil)
	_ kernels.GRUCeller     = (*Backend)(nil)
	_ kernels.AdamStepper   = (*Backend)(nil)
)

// Name returns "cuda".
func (be *Backend) Name() string { return "cuda" }

// Device describes the GPU: name, compute capability, memory and driver version.
func (be *Backend) Device() string { return be.device }

// do runs f with the device context current on a locked OS thread, under the mutex. The first
// error (of f or of an earlier call) is kept; after it, f is not run.
func (be *Backend) do(op string, f func(d driver) error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.err != nil {
		return
	}
	if err := be.drv.enter(); err != nil {
		be.err = fmt.Errorf("cuda: %s: set context: %w", op, err)
		return
	}
	if err := f(be.drv); err != nil {
		be.err = fmt.Errorf("cuda: %s: %w", op, err)
	}
}

// Sync waits for the queued work and returns the first error of any earlier call.
func (be *Backend) Sync() error {
	be.do("Sync", func(d driver) error { return d.sync() })
	return be.Err()
}

// Err returns the first error recorded so far without synchronising.
func (be *Backend) Err() error {
	be.mu.Lock()
	defer be.mu.Unlock()
	return be.err
}

// Close releases the driver's resources (cuBLAS handle) and the scratch memory; buffers are
// released by Free or when they become garbage. The backend must not be used afterwards.
func (be *Backend) Close() error {
	be.do("Close", func(d driver) error {
		var err error
		if be.scratch != 0 {
			err = d.free(be.scratch)
			be.scratch, be.scrLen = 0, 0
		}
		return errors.Join(err, d.close())
	})
	return be.Err()
}

// buffer is device memory: a whole allocation or a view into one.
type buffer struct {
	be    *Backend
	alloc *allocation
	off   int // elements from the allocation's start
	n     int
}

// allocation is one device allocation. Its memory is released by Free or, once the allocation
// is garbage (no buffer or view refers to it), by a cleanup; mem is a separate object so that the
// cleanup sees whether Free came first.
type allocation struct {
	mem *devMem
	n   int
}

type devMem struct{ ptr uint64 }

// Len returns the number of float32 elements.
func (b *buffer) Len() int { return b.n }

func (b *buffer) ptr() uint64 {
	if b.alloc.mem.ptr == 0 {
		return 0
	}
	return b.alloc.mem.ptr + uint64(4*b.off)
}

// dev returns the device buffer behind b with at least n elements, panicking (like a BLAS
// argument check) on a foreign, freed or short buffer.
func (be *Backend) dev(op, arg string, b kernels.Buffer, n int) *buffer {
	cb, ok := b.(*buffer)
	if !ok || cb == nil || cb.be != be {
		panic(fmt.Sprintf("kernels/cuda: %s: %s is not a buffer of this backend (%T)", op, arg, b))
	}
	if cb.alloc.n > 0 && cb.alloc.mem.ptr == 0 {
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

// Alloc returns a zeroed buffer of n elements (panicking when the device is out of memory, as
// the CPU backend's allocation would).
func (be *Backend) Alloc(n int) kernels.Buffer {
	checkDims("Alloc", n)
	a := &allocation{mem: &devMem{}, n: n}
	if n > 0 {
		be.do("Alloc", func(d driver) error {
			p, err := d.alloc(int64(n) * 4)
			if err != nil {
				return fmt.Errorf("%d floats: %w", n, err)
			}
			a.mem.ptr = p
			return d.memsetD32(p, 0, int64(n))
		})
		if err := be.Err(); err != nil {
			panic(fmt.Sprintf("kernels/cuda: Alloc(%d): %v", n, err))
		}
		runtime.AddCleanup(a, func(m *devMem) {
			if p := m.ptr; p != 0 {
				m.ptr = 0
				be.do("free", func(d driver) error { return d.free(p) })
			}
		}, a.mem)
	}
	return &buffer{be: be, alloc: a, n: n}
}

// Free releases b's memory now. Freeing a view does nothing (the memory goes with the
// allocation's own buffer). Free(nil) is a no-op.
func (be *Backend) Free(b kernels.Buffer) {
	if b == nil {
		return
	}
	cb, ok := b.(*buffer)
	if !ok || cb == nil || cb.be != be || cb.off != 0 || cb.n != cb.alloc.n || cb.alloc.mem.ptr == 0 {
		return
	}
	p := cb.alloc.mem.ptr
	cb.alloc.mem.ptr = 0
	be.do("Free", func(d driver) error { return d.free(p) })
}

// Upload copies src into dst.
func (be *Backend) Upload(dst kernels.Buffer, src []float32) {
	d := be.dev("Upload", "dst", dst, len(src))
	if len(src) == 0 {
		return
	}
	be.do("Upload", func(drv driver) error { return drv.htod(d.ptr(), unsafe.Pointer(&src[0]), int64(len(src))*4) })
}

// Download copies the first len(dst) elements of src into dst after the queued work. After a
// device error dst is filled with NaN (Sync returns the error).
func (be *Backend) Download(dst []float32, src kernels.Buffer) {
	s := be.dev("Download", "src", src, len(dst))
	if len(dst) == 0 {
		return
	}
	ok := false
	be.do("Download", func(d driver) error {
		if err := d.dtoh(unsafe.Pointer(&dst[0]), s.ptr(), int64(len(dst))*4); err != nil {
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
	be.do("Copy", func(drv driver) error { return drv.dtod(d.ptr(), s.ptr(), int64(s.n)*4) })
}

// Fill sets every element of b to v.
func (be *Backend) Fill(b kernels.Buffer, v float32) {
	d := be.dev("Fill", "b", b, 0)
	be.launch("Fill", "fill", d.n, d, d.n, v)
}

// arg is one kernel parameter: a device buffer, an int (passed as long long), a float32, a
// uint64, or nil (a null pointer).
type arg any

// blockSize is the thread-block size of every launch (RBLOCK in common.cuh).
const blockSize = 256

// maxGrid caps the blocks of a grid-stride launch.
const maxGrid = 65535

// params encodes kernel parameters as 64-bit values.
func params(op, fn string, args []arg) []uint64 {
	vals := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case *buffer:
			vals[i] = v.ptr()
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
	return vals
}

// grid is the number of blocks of a grid-stride launch over n threads.
func grid(n int) int { return min((n+blockSize-1)/blockSize, maxGrid) }

// launch runs kernel fn over n threads (grid-stride loops cover any n).
func (be *Backend) launch(op, fn string, n int, args ...arg) {
	if n <= 0 {
		return
	}
	be.launchGrid(op, fn, grid(n), args...)
}

// launchGrid runs kernel fn on blocks blocks of blockSize threads.
func (be *Backend) launchGrid(op, fn string, blocks int, args ...arg) {
	vals := params(op, fn, args)
	be.do(op, func(d driver) error { return d.launch(fn, blocks, blockSize, vals) })
}

// scratchLocked returns device scratch space of at least bytes (inside do).
func (be *Backend) scratchLocked(d driver, bytes int64) (uint64, error) {
	if be.scrLen >= bytes {
		return be.scratch, nil
	}
	if be.scratch != 0 {
		if err := d.free(be.scratch); err != nil {
			return 0, err
		}
		be.scratch, be.scrLen = 0, 0
	}
	size := max(bytes, 1<<16)
	p, err := d.alloc(size)
	if err != nil {
		return 0, fmt.Errorf("scratch %d bytes: %w", size, err)
	}
	be.scratch, be.scrLen = p, size
	return p, nil
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
	be.do(op, func(d driver) error {
		for i := 0; i < batch; i++ {
			pa := ab.ptr() + uint64(4*sa*i)
			pb := bb.ptr() + uint64(4*sb*i)
			pc := cb.ptr() + uint64(4*sc*i)
			if err := d.sgemm(transB, transA, n, m, k, alpha, pb, ldb, pa, lda, beta, pc, ldc); err != nil {
				return fmt.Errorf("sgemm: %w", err)
			}
		}
		return nil
	})
}
