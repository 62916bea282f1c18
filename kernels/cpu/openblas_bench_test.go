//go:build openblas && cgo

package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu/internal/openblas"
)

// BenchmarkVsOpenBLAS times etch's SGEMM and OpenBLAS's cblas_sgemm on the same square operands,
// interleaved (one call of each per iteration, same thread count), so that load from other
// processes affects both alike, and reports both rates and their ratio.
func BenchmarkVsOpenBLAS(b *testing.B) {
	threads := runtime.GOMAXPROCS(0)
	openblas.SetThreads(threads)
	be := New(kernels.Options{Threads: threads})
	b.Logf("etch: %s; openblas: %s", be.Device(), openblas.Config())
	for _, n := range []int{256, 1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			host := func() []float32 {
				s := make([]float32, n*n)
				for i := range s {
					s[i] = r.Float32()*2 - 1
				}
				return s
			}
			a, bm := host(), host()
			ca, cb := make([]float32, n*n), make([]float32, n*n)
			da, db, dc := be.Alloc(n*n), be.Alloc(n*n), be.Alloc(n*n)
			be.Upload(da, a)
			be.Upload(db, bm)
			// Warm up both (pack buffers, OpenBLAS thread pool) and check they agree.
			be.Gemm(false, false, n, n, n, 1, da, n, db, n, 0, dc, n)
			openblas.Sgemm(n, n, n, 1, a, bm, 0, cb)
			be.Download(ca, dc)
			for i := range ca {
				if d := ca[i] - cb[i]; d > 1e-3 || d < -1e-3 {
					b.Fatalf("etch and OpenBLAS disagree at %d: %v vs %v", i, ca[i], cb[i])
				}
			}
			var tEtch, tBLAS time.Duration
			for b.Loop() {
				t0 := time.Now()
				be.Gemm(false, false, n, n, n, 1, da, n, db, n, 0, dc, n)
				t1 := time.Now()
				openblas.Sgemm(n, n, n, 1, a, bm, 0, cb)
				tEtch += t1.Sub(t0)
				tBLAS += time.Since(t1)
			}
			flop := 2 * float64(n) * float64(n) * float64(n) * float64(b.N)
			ge, gb := flop/tEtch.Seconds()/1e9, flop/tBLAS.Seconds()/1e9
			b.ReportMetric(ge, "etch-GFLOP/s")
			b.ReportMetric(gb, "openblas-GFLOP/s")
			b.ReportMetric(ge/gb, "ratio")
		})
	}
}
