package cpu

import "sync"

// elemGrain is the smallest number of elements worth handing to another goroutine for cheap
// elementwise kernels.
const elemGrain = 1 << 15

// parallel runs fn over [0, n) in contiguous chunks of at least grain elements, using up to
// be.threads goroutines (chunk 0 on the caller), and returns when all chunks are done.
func (be *Backend) parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := be.threads
	if grain < 1 {
		grain = 1
	}
	if c := n / grain; c < chunks {
		chunks = c
	}
	if chunks <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(chunks - 1)
	for c := 1; c < chunks; c++ {
		lo, hi := c*n/chunks, (c+1)*n/chunks
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/chunks)
	wg.Wait()
}
