package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etchlab/etch/kernels"
)

func TestPoolRunsEveryPart(t *testing.T) {
	p := newWorkerPool(4)
	defer p.stop()
	for _, parts := range []int{1, 2, 4, 7} { // 7 > threads: runs serially
		for round := range 50 {
			var hits [8]atomic.Int32
			p.run(parts, func(i int) { hits[i].Add(1) })
			for i := range parts {
				if hits[i].Load() != 1 {
					t.Fatalf("parts=%d round %d: part %d ran %d times", parts, round, i, hits[i].Load())
				}
			}
			if round%10 == 9 {
				time.Sleep(2 * spinFor) // let helpers park, so the wake-up path runs too
			}
		}
	}
}

func TestPoolConcurrentAndNested(t *testing.T) {
	be := New(kernels.Options{Threads: 3})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1<<17 + g
			x := be.Alloc(n)
			be.Fill(x, 1)
			// Nested: a parallel kernel whose chunks run another parallel kernel.
			var total atomic.Int64
			be.parallel(3, 1, func(lo, hi int) {
				be.parallel(n, elemGrain, func(lo, hi int) { total.Add(int64(hi - lo)) })
			})
			if got := be.SumSquares(x, n); got != float32(n) || total.Load() != 3*int64(n) {
				t.Errorf("goroutine %d: SumSquares = %v, nested total = %d", g, got, total.Load())
			}
		}()
	}
	wg.Wait()
}

func TestPoolHelpersExitWithBackend(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		be := New(kernels.Options{Threads: 4})
		be.Fill(be.Alloc(1<<20), 1) // starts the helpers
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines remain after the Backend was collected (before: %d)", runtime.NumGoroutine(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
