package cpu

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolStress runs many dispatches with random sizes and pauses, including a dispatcher that
// is delayed between posting a job and checking whether the helper is parked (by then the helper
// may have run the job and parked again: the case of a stale wake token).
func TestPoolStress(t *testing.T) {
	for _, delayed := range []bool{false, true} {
		p := newWorkerPool(4)
		r := rand.New(rand.NewPCG(1, 1))
		if delayed {
			p.afterPost = func() {
				if r.IntN(4) == 0 {
					time.Sleep(spinFor + time.Duration(r.IntN(100))*time.Microsecond)
				}
			}
		}
		rounds := 3000
		if delayed {
			rounds = 300
		}
		for round := range rounds {
			parts := 1 + r.IntN(4)
			var hits [4]atomic.Int32
			p.run(parts, func(i int) { hits[i].Add(1) })
			for i := range parts {
				if hits[i].Load() != 1 {
					t.Fatalf("delayed=%v round %d parts=%d: part %d ran %d times", delayed, round, parts, i, hits[i].Load())
				}
			}
			if r.IntN(20) == 0 {
				time.Sleep(time.Duration(r.IntN(150)) * time.Microsecond)
			}
		}
		p.stop()
	}
}
