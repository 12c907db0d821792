package kernels

// A bounded worker pool for the parallel kernels (Sgemm today). It is not a
// general task scheduler: one call to Parallel splits one index range into a
// few contiguous chunks and waits for them. There is no goroutine per
// element and no per-call goroutine: a Pool owns Workers()-1 long-lived
// goroutines and the calling goroutine works too.

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a bounded worker pool; a nil *Pool runs everything serially on the
// calling goroutine. Create one with NewPool, share it between kernels and
// goroutines, and Close it when done.
//
// Parallel posts its call to the pool's queue without ever blocking, then
// claims chunks itself; workers that pick the call up claim chunks too. The
// caller waits only for chunks that a worker has actually started, so a
// Parallel called from inside fn (re-entrant), while every worker is busy,
// simply runs its chunks on the calling goroutine: no deadlock.
type Pool struct {
	workers int
	queue   chan *poolCall
	closed  atomic.Bool
	once    sync.Once
}

// poolCall is the shared state of one Parallel call.
type poolCall struct {
	fn       func(lo, hi int)
	n        int
	chunks   int64
	next     atomic.Int64 // next chunk to claim
	done     sync.WaitGroup
	pending  atomic.Int64 // chunks not finished, for the caller's spin
	failed   atomic.Bool
	mu       sync.Mutex
	panicVal any
	byCaller bool // the first panic came from the calling goroutine
}

// work claims and runs chunks until none is left.
func (c *poolCall) work(caller bool) {
	for {
		i := c.next.Add(1) - 1
		if i >= c.chunks {
			return
		}
		c.runChunk(i, caller)
	}
}

func (c *poolCall) runChunk(i int64, caller bool) {
	defer func() {
		c.done.Done()
		c.pending.Add(-1)
	}()
	if c.failed.Load() {
		return // skip the rest after a panic
	}
	defer func() {
		if r := recover(); r != nil {
			c.mu.Lock()
			if !c.failed.Load() {
				c.panicVal, c.byCaller = r, caller
				c.failed.Store(true)
			}
			c.mu.Unlock()
		}
	}()
	lo := int(i * int64(c.n) / c.chunks)
	hi := int((i + 1) * int64(c.n) / c.chunks)
	c.fn(lo, hi)
}

// NewPool starts a pool of the given size; workers <= 0 means
// runtime.GOMAXPROCS(0). A pool of one worker starts no goroutine.
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, queue: make(chan *poolCall, workers)}
	for range workers - 1 {
		go p.worker()
	}
	return p
}

// workerSpin is how long an idle worker keeps polling the queue before it
// blocks on it, and how long Parallel's caller polls for the chunks still
// running on workers before it sleeps. Waking a blocked goroutine costs
// the scheduler a futex wake and a thread switch, which on this project's
// virtual machines took well over 50 µs: longer than a matrix-vector
// product of decoding, and the model issues its products back to back.
// Measured on 197x768x768 at 2 threads: 345 GFLOP/s with a 50 µs spin,
// 455–470 with 200 µs to 1 ms (two free-running goroutines: 470). The spin
// is bounded, so an idle pool costs at most this much CPU per call.
// (OpenBLAS's threads spin for the same reason, far longer.)
const workerSpin = 300 * time.Microsecond

func (p *Pool) worker() {
	for {
		c, ok := p.poll()
		if !ok {
			return
		}
		c.work(false)
	}
}

// poll returns the next call: it polls the queue for up to workerSpin,
// then blocks. ok is false once the pool is closed.
func (p *Pool) poll() (c *poolCall, ok bool) {
	deadline := time.Now().Add(workerSpin)
	for i := 0; ; i++ {
		select {
		case c, ok = <-p.queue:
			return c, ok
		default:
		}
		if i%64 == 63 {
			if time.Now().After(deadline) {
				break
			}
		}
	}
	c, ok = <-p.queue
	return c, ok
}

// Workers is the number of chunks Parallel splits work into at most; 1 for a
// nil pool.
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// Parallel splits [0, n) into at most Workers() contiguous chunks of nearly
// equal size, runs fn on each and returns when all are done. It is
// equivalent to
//
//	fn(0, n)
//
// when p is nil, has one worker or is closed, or when n < 2. Chunks never
// overlap, so fn may write to disjoint parts of shared output without
// locks. Which goroutine runs which chunk is unspecified.
//
// Re-entrant calls (Parallel from inside fn) do not deadlock; see Pool.
//
// If fn panics in any chunk, Parallel waits for the chunks already running
// (chunks not yet started are skipped), then panics on the calling
// goroutine. A panic from a chunk the caller ran itself is re-raised
// unchanged; one from a worker goroutine is re-raised as the string
// "kernels: Pool.Parallel: panic in chunk: <value>" (the worker's stack is
// lost). The pool stays usable afterwards.
func (p *Pool) Parallel(n int, fn func(lo, hi int)) {
	p.parallel(n, 1, fn)
}

// parallel is Parallel with up to perWorker chunks per worker: the caller
// and the workers claim chunks as they come, so a worker that wakes late
// (microseconds on a busy machine) costs at most a chunk, not half of the
// work. The kernels use it for calls of tens of microseconds.
func (p *Pool) parallel(n, perWorker int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	w := min(p.Workers(), n)
	if w <= 1 || p.closed.Load() {
		fn(0, n)
		return
	}
	chunks := min(n, w*perWorker)
	c := &poolCall{fn: fn, n: n, chunks: int64(chunks)}
	c.done.Add(chunks)
	c.pending.Store(int64(chunks))
	// Invite up to w-1 helpers without blocking: a full queue means the
	// workers are busy, and the caller will do the work itself.
post:
	for range w - 1 {
		select {
		case p.queue <- c:
		default:
			break post
		}
	}
	c.work(true)
	// Chunks still running on workers usually end within microseconds:
	// poll for them before sleeping on the WaitGroup, whose wake-up costs
	// as much as the wait.
	if c.pending.Load() > 0 {
		deadline := time.Now().Add(workerSpin)
		for i := 0; c.pending.Load() > 0; i++ {
			if i%64 == 63 && time.Now().After(deadline) {
				break
			}
		}
	}
	c.done.Wait()
	if c.failed.Load() {
		if c.byCaller {
			panic(c.panicVal)
		}
		panic(fmt.Sprintf("kernels: Pool.Parallel: panic in chunk: %v", c.panicVal))
	}
}

// Close stops the worker goroutines. Later calls to Parallel run serially.
// Close must not run concurrently with Parallel on the same pool; it is safe
// to call more than once, and on a nil pool.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.closed.Store(true)
		close(p.queue)
	})
}
