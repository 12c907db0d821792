package kernels

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// within fails the test if f does not return in time (a deadlock).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal("timed out: deadlock?")
	}
}

func TestPoolCoversRange(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 3, 8} {
		p := NewPool(workers)
		if workers > 0 && p.Workers() != workers {
			t.Fatalf("Workers() = %d, want %d", p.Workers(), workers)
		}
		for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
			hits := make([]int32, n)
			var chunks atomic.Int32
			p.Parallel(n, func(lo, hi int) {
				chunks.Add(1)
				if lo >= hi {
					t.Errorf("empty chunk [%d, %d)", lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("workers=%d n=%d: index %d visited %d times", workers, n, i, h)
				}
			}
			if c := int(chunks.Load()); c > p.Workers() {
				t.Fatalf("workers=%d n=%d: %d chunks > Workers()", workers, n, c)
			}
		}
		p.Close()
		p.Close() // idempotent
	}
	var nilPool *Pool
	if nilPool.Workers() != 1 {
		t.Fatal("nil pool: Workers() != 1")
	}
	calls := 0
	nilPool.Parallel(10, func(lo, hi int) {
		calls++
		if lo != 0 || hi != 10 {
			t.Fatalf("nil pool: chunk [%d, %d)", lo, hi)
		}
	})
	if calls != 1 {
		t.Fatalf("nil pool: %d calls", calls)
	}
	nilPool.Close()
}

func TestPoolReentrant(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	within(t, 10*time.Second, func() {
		var total atomic.Int64
		for range 50 {
			p.Parallel(6, func(lo, hi int) {
				for range hi - lo {
					p.Parallel(5, func(lo, hi int) {
						for range hi - lo {
							p.Parallel(4, func(lo, hi int) { total.Add(int64(hi - lo)) })
						}
					})
				}
			})
		}
		if got := total.Load(); got != 50*6*5*4 {
			t.Errorf("nested total %d, want %d", got, 50*6*5*4)
		}
	})
}

func TestPoolConcurrentCallers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	within(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		var total atomic.Int64
		for range 4 {
			wg.Go(func() {
				for range 100 {
					p.Parallel(10, func(lo, hi int) { total.Add(int64(hi - lo)) })
				}
			})
		}
		wg.Wait()
		if got := total.Load(); got != 4*100*10 {
			t.Errorf("total %d, want %d", got, 4*100*10)
		}
	})
}

func TestPoolPanics(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	// Whichever goroutine runs the panicking chunk, Parallel panics on the
	// caller, the message keeps the value, and no chunk is still running
	// when it does (chunks the caller had not started yet are skipped).
	for _, bad := range []int{0, 1, 2} {
		var started, finished atomic.Int32
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(strings.ToLower(toString(r)), "boom") {
					t.Fatalf("bad chunk %d: recovered %v, want a panic mentioning boom", bad, r)
				}
			}()
			p.Parallel(3, func(lo, hi int) {
				started.Add(1)
				defer finished.Add(1)
				if lo == bad {
					panic("boom")
				}
				time.Sleep(2 * time.Millisecond)
			})
		}()
		if s, f := started.Load(), finished.Load(); s != f || s == 0 {
			t.Fatalf("bad chunk %d: %d chunks started, %d finished when the panic surfaced", bad, s, f)
		}
	}
	// The pool still works afterwards.
	var n atomic.Int32
	p.Parallel(3, func(lo, hi int) { n.Add(int32(hi - lo)) })
	if n.Load() != 3 {
		t.Fatal("pool broken after a panic")
	}
}

func TestPoolAfterClose(t *testing.T) {
	p := NewPool(4)
	p.Close()
	calls := 0
	p.Parallel(100, func(lo, hi int) { calls++ })
	if calls != 1 {
		t.Fatalf("closed pool: %d calls, want 1 (serial)", calls)
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

// TestPoolParallelChunks: the kernels' finer split covers [0, n) exactly
// once with at most perWorker·Workers() chunks.
func TestPoolParallelChunks(t *testing.T) {
	for _, w := range []int{1, 2, 3} {
		p := NewPool(w)
		for _, n := range []int{1, 2, 5, 17, 100} {
			seen := make([]atomic.Int32, n)
			var chunks atomic.Int32
			p.parallel(n, 4, func(lo, hi int) {
				chunks.Add(1)
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Fatalf("workers=%d n=%d: index %d covered %d times", w, n, i, seen[i].Load())
				}
			}
			if c := int(chunks.Load()); c > 4*p.Workers() || c > n {
				t.Fatalf("workers=%d n=%d: %d chunks", w, n, c)
			}
		}
		p.Close()
	}
}
