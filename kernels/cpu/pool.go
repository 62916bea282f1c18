package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// elemGrain is the smallest number of elements worth handing to another goroutine for cheap
// elementwise kernels.
const elemGrain = 1 << 15

// spinFor is how long an idle worker keeps polling for the next job before it parks. Kernels
// come in quick succession (a training step is hundreds of them), and waking a parked goroutine
// goes through the scheduler (tens of microseconds, one wake-up at a time), which at 16 threads
// cost more than a 1024² GEMM phase; polling briefly, yielding the processor between polls,
// makes the next dispatch immediate, like a BLAS thread pool's spin-wait.
const spinFor = 50 * time.Microsecond

// workerPool runs parts of a kernel on threads-1 helper goroutines plus the caller. Helpers
// start on first use and exit when the owning Backend is garbage-collected.
type workerPool struct {
	mu    sync.Mutex // held by the dispatching call; a concurrent or nested call runs serially
	slots []*workerSlot
	quit  chan struct{}
	once  sync.Once
	// afterPost, if set (tests only), runs between posting a job and checking for a parked helper.
	afterPost func()
}

// workerSlot is one helper goroutine's mailbox.
type workerSlot struct {
	gen   atomic.Uint64 // job generation, bumped by the dispatcher once job is set
	state atomic.Int32  // slotRunning or slotParked (a hint for the dispatcher)
	wake  chan struct{} // a token for a parked helper
	job   func(part int)
	part  int
	done  *sync.WaitGroup
}

const (
	slotRunning = 0
	slotParked  = 1
)

func newWorkerPool(threads int) *workerPool {
	p := &workerPool{quit: make(chan struct{})}
	for range threads - 1 {
		p.slots = append(p.slots, &workerSlot{wake: make(chan struct{}, 1)})
	}
	return p
}

// stop ends the helper goroutines (the Backend's cleanup).
func (p *workerPool) stop() { close(p.quit) }

func (p *workerPool) start() {
	for _, s := range p.slots {
		go s.loop(p.quit)
	}
}

// loop waits for jobs: polling for spinFor after each one, then parked on wake.
func (s *workerSlot) loop(quit <-chan struct{}) {
	var seen uint64
	for {
		start := time.Now()
		for i := 0; s.gen.Load() == seen; i++ {
			if i%16 == 15 && time.Since(start) > spinFor {
				if !s.park(seen, quit) {
					return
				}
				break
			}
			runtime.Gosched()
		}
		seen = s.gen.Load()
		s.job(s.part)
		s.done.Done()
	}
}

// park blocks until a job newer than seen is posted; false means the pool was stopped.
//
// Wake tokens are only hints to re-check gen: a dispatcher delayed between posting a job and
// looking at state may find the helper already done with that job and parked, and send a token
// for it. So a token never means "run"; only a new gen does.
func (s *workerSlot) park(seen uint64, quit <-chan struct{}) bool {
	for {
		s.state.Store(slotParked)
		if s.gen.Load() != seen {
			s.state.Store(slotRunning)
			return true
		}
		select {
		case <-s.wake:
		case <-quit:
			return false
		}
	}
}

// run calls fn(0..parts-1), part 0 on the calling goroutine and the others on helpers, and
// returns when all are done. parts must not exceed the thread count.
func (p *workerPool) run(parts int, fn func(part int)) {
	if parts <= 1 || parts-1 > len(p.slots) || !p.mu.TryLock() {
		for i := range parts {
			fn(i)
		}
		return
	}
	defer p.mu.Unlock()
	p.once.Do(p.start)
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		s := p.slots[i-1]
		s.job, s.part, s.done = fn, i, &wg
		s.gen.Add(1)
		if p.afterPost != nil {
			p.afterPost()
		}
		// Either the helper sees the new gen before parking, or we see it parked and leave a
		// token (one pending token is enough: it makes the helper re-check gen).
		if s.state.Load() == slotParked {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	fn(0)
	wg.Wait()
}

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
	be.pool.run(chunks, func(c int) { fn(c*n/chunks, (c+1)*n/chunks) })
}
