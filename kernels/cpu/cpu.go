package cpu

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/etchlab/etch/kernels"
)

// buffer is the CPU backend's Buffer: a slice of host memory.
type buffer struct {
	data []float32
}

func (b *buffer) Len() int { return len(b.data) }

// Backend is the CPU implementation of kernels.Backend (plus the optional fused interfaces).
// Kernels parallelise internally over a pool of Options.Threads goroutines; several goroutines
// may call one Backend at once on disjoint buffers (a call that finds the pool busy runs on its
// own goroutine).
type Backend struct {
	threads int
	log     *slog.Logger
	kern    *microKernel
	scratch chan *gemmScratch // idle GEMM pack buffers: one per worker plus the shared B
	// staticBelow is the m·n·k under which parallel GEMMs use the static split.
	staticBelow int
	pool        *workerPool
}

var (
	_ kernels.Backend       = (*Backend)(nil)
	_ kernels.BatchedGemmer = (*Backend)(nil)
	_ kernels.LSTMCeller    = (*Backend)(nil)
	_ kernels.GRUCeller     = (*Backend)(nil)
	_ kernels.AdamStepper   = (*Backend)(nil)
)

// New returns a CPU backend using opts.Threads worker goroutines (0: GOMAXPROCS).
func New(opts kernels.Options) *Backend {
	t := opts.Threads
	if t <= 0 {
		t = runtime.GOMAXPROCS(0)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	be := &Backend{threads: t, log: log, kern: bestKernel(), scratch: make(chan *gemmScratch, t+1),
		staticBelow: defaultStaticBelow, pool: newWorkerPool(t)}
	// The helpers reference only the pool, so the Backend can become unreachable; then they exit.
	runtime.AddCleanup(be, func(p *workerPool) { p.stop() }, be.pool)
	return be
}

// Threads reports the number of worker goroutines kernels may use.
func (be *Backend) Threads() int { return be.threads }

// Name returns "cpu".
func (be *Backend) Name() string { return "cpu" }

// Device describes the CPU: architecture, SIMD level of the GEMM micro-kernel and thread count.
func (be *Backend) Device() string {
	return fmt.Sprintf("%s/%s, sgemm %s, %d threads", runtime.GOOS, runtime.GOARCH, be.kern.name, be.threads)
}

// Opener opens the CPU backend; it is always available.
type Opener struct{}

// Name returns "cpu".
func (Opener) Name() string { return "cpu" }

// Open returns New(opts).
func (Opener) Open(ctx context.Context, opts kernels.Options) (kernels.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return New(opts), nil
}

// Probe always succeeds.
func (Opener) Probe(context.Context) error { return nil }

// data returns the slice behind b, panicking on a foreign or nil buffer.
func data(op string, b kernels.Buffer) []float32 {
	cb, ok := b.(*buffer)
	if !ok || cb == nil {
		panic(fmt.Sprintf("kernels/cpu: %s: buffer %T is not a cpu buffer", op, b))
	}
	return cb.data
}

// need returns the first n elements of b, panicking if b is too short.
func need(op, name string, b kernels.Buffer, n int) []float32 {
	d := data(op, b)
	if n < 0 || len(d) < n {
		panic(fmt.Sprintf("kernels/cpu: %s: %s has %d elements, need %d", op, name, len(d), n))
	}
	return d[:n]
}

// Alloc returns a zeroed buffer of n elements.
func (be *Backend) Alloc(n int) kernels.Buffer {
	if n < 0 {
		panic(fmt.Sprintf("kernels/cpu: Alloc: negative size %d", n))
	}
	return &buffer{data: make([]float32, n)}
}

// Free drops the buffer's memory (the garbage collector reclaims it once no View refers to it).
func (be *Backend) Free(b kernels.Buffer) {
	if b == nil {
		return
	}
	if cb, ok := b.(*buffer); ok && cb != nil {
		cb.data = nil
	}
}

// Upload copies src into dst.
func (be *Backend) Upload(dst kernels.Buffer, src []float32) {
	copy(need("Upload", "dst", dst, len(src)), src)
}

// Download copies src into dst.
func (be *Backend) Download(dst []float32, src kernels.Buffer) {
	copy(dst, need("Download", "src", src, len(dst)))
}

// View returns elements [off, off+n) of b, sharing memory.
func (be *Backend) View(b kernels.Buffer, off, n int) kernels.Buffer {
	d := data("View", b)
	if off < 0 || n < 0 || off+n > len(d) {
		panic(fmt.Sprintf("kernels/cpu: View: [%d, %d) out of range of %d elements", off, off+n, len(d)))
	}
	return &buffer{data: d[off : off+n : off+n]}
}

// Copy copies src into dst.
func (be *Backend) Copy(dst, src kernels.Buffer) {
	s := data("Copy", src)
	copy(need("Copy", "dst", dst, len(s)), s)
}

// Fill sets every element of b to v.
func (be *Backend) Fill(b kernels.Buffer, v float32) {
	d := data("Fill", b)
	be.parallel(len(d), elemGrain, func(lo, hi int) {
		s := d[lo:hi]
		for i := range s {
			s[i] = v
		}
	})
}

// Sync returns nil: CPU kernels complete before they return.
func (be *Backend) Sync() error { return nil }
