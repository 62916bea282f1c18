//go:build openblas && cgo

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu/internal/openblas"
)

// median returns the median of s (reordering it).
func median(s []float64) float64 {
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkVsOpenBLAS times etch's SGEMM and OpenBLAS's cblas_sgemm on the same square operands,
// interleaved (one call of each per iteration, same thread count), so that load from other
// processes affects both alike, and reports the median rates and the median per-iteration ratio (etch time / OpenBLAS time
// inverted: above 1 means etch is faster).
func BenchmarkVsOpenBLAS(b *testing.B) {
	threads := runtime.GOMAXPROCS(0)
	openblas.SetThreads(threads)
	be := New(kernels.Options{Threads: threads})
	if v := os.Getenv("ETCH_GEMM_STATIC_BELOW"); v != "" { // tuning aid
		be.staticBelow, _ = strconv.Atoi(v)
	}
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
			var tEtch, tBLAS, ratio []float64
			bestEtch, bestBLAS := math.Inf(1), math.Inf(1)
			for b.Loop() {
				t0 := time.Now()
				be.Gemm(false, false, n, n, n, 1, da, n, db, n, 0, dc, n)
				t1 := time.Now()
				openblas.Sgemm(n, n, n, 1, a, bm, 0, cb)
				e, o := t1.Sub(t0).Seconds(), time.Since(t1).Seconds()
				tEtch, tBLAS, ratio = append(tEtch, e), append(tBLAS, o), append(ratio, o/e)
				bestEtch, bestBLAS = min(bestEtch, e), min(bestBLAS, o)
			}
			// Medians resist the bursts of load from other processes on a shared machine.
			flop := 2 * float64(n) * float64(n) * float64(n)
			b.ReportMetric(flop/median(tEtch)/1e9, "etch-GFLOP/s")
			b.ReportMetric(flop/median(tBLAS)/1e9, "openblas-GFLOP/s")
			b.ReportMetric(median(ratio), "ratio")
			b.ReportMetric(bestBLAS/bestEtch, "best-ratio")
		})
	}
}
