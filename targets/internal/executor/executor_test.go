package executor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// gauge tracks a current value and its high-water mark.
type gauge struct{ cur, max atomic.Int64 }

func (g *gauge) inc() {
	v := g.cur.Add(1)
	for {
		m := g.max.Load()
		if v <= m || g.max.CompareAndSwap(m, v) {
			return
		}
	}
}
func (g *gauge) dec() { g.cur.Add(-1) }

// doAll runs n tasks concurrently through ex and returns their errors once all are done.
func doAll(ex Executor, n int, task Task) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ex.Do(context.Background(), task)
		}()
	}
	wg.Wait()
	return errs
}

func TestBlockingHoldsWorkersAndQueuesFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBlocking(BlockingConfig{Workers: 2, Backlog: 16})
		defer b.Close()
		release := make(chan struct{})
		var running gauge
		task := func(ctx context.Context, rt Runtime) {
			running.inc()
			defer running.dec()
			_ = rt.Wait(ctx, func(context.Context) error { <-release; return nil })
		}
		var errs []error
		done := make(chan struct{})
		go func() { errs = doAll(b, 6, task); close(done) }()
		synctest.Wait() // every goroutine is blocked: the 6 requests are admitted
		if s := b.Stats(); s.Busy != 2 || s.Queued != 4 {
			t.Fatalf("with 6 requests and W=2: busy %d, queued %d; want 2 and 4", s.Busy, s.Queued)
		}
		close(release)
		<-done
		for _, err := range errs {
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
		}
		s := b.Stats()
		if s.MaxBusy != 2 || s.MaxQueued != 4 || running.max.Load() != 2 || s.Done != 6 || s.Queued != 0 {
			t.Fatalf("stats %+v, max running %d; want max busy 2, 6 done, none queued", s, running.max.Load())
		}
	})
}

func TestBlockingOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBlocking(BlockingConfig{Workers: 1, Backlog: 1})
		defer b.Close()
		release := make(chan struct{})
		block := func(context.Context, Runtime) { <-release }
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); _ = b.Do(context.Background(), block) }()
		}
		synctest.Wait()
		if err := b.Do(context.Background(), block); !errors.Is(err, ErrOverloaded) {
			t.Fatalf("third Do with W=1, backlog 1: %v, want ErrOverloaded", err)
		}
		close(release)
		wg.Wait()
	})
}

func TestLoopRunsAllConcurrentlyOneCallbackAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLoop(LoopConfig{Loops: 1, Backlog: 100})
		release := make(chan struct{})
		var onLoop gauge // callbacks running now, observed from inside the callbacks
		cpu := func() {
			onLoop.inc()
			time.Sleep(time.Millisecond) // hold the loop (fake time): others must wait
			onLoop.dec()
		}
		task := func(ctx context.Context, rt Runtime) {
			rt.CPU(cpu)
			_ = rt.Wait(ctx, func(context.Context) error { <-release; return nil })
			rt.CPU(cpu)
		}
		done := make(chan []error)
		go func() { done <- doAll(l, 6, task) }()
		synctest.Wait()
		if s := l.Stats(); s.InFlight != 6 {
			t.Fatalf("event loop in flight %d, want all 6", s.InFlight)
		}
		close(release)
		for _, err := range <-done {
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
		}
		l.Close()
		s := l.Stats()
		if s.MaxInFlight != 6 || s.MaxRunning != 1 || s.Overlaps != 0 || onLoop.max.Load() != 1 || s.Done != 6 {
			t.Fatalf("stats %+v, max on loop %d; want 6 in flight, never two callbacks at once", s, onLoop.max.Load())
		}
		if s.BusyTotal != 12*time.Millisecond {
			t.Fatalf("busy total %v, want 12ms (12 callbacks of 1ms)", s.BusyTotal)
		}
	})
}

func TestLoopOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLoop(LoopConfig{Loops: 1, Backlog: 2})
		defer l.Close()
		release := make(chan struct{})
		block := func(ctx context.Context, rt Runtime) {
			_ = rt.Wait(ctx, func(context.Context) error { <-release; return nil })
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); _ = l.Do(context.Background(), block) }()
		}
		synctest.Wait()
		if err := l.Do(context.Background(), block); !errors.Is(err, ErrOverloaded) {
			t.Fatalf("third Do with backlog 2: %v, want ErrOverloaded", err)
		}
		close(release)
		wg.Wait()
	})
}

// TestWaitStyles: the blocking runtime makes its waits one after another, the
// loop runtime issues them together and awaits them as a group.
func TestWaitStyles(t *testing.T) {
	for _, tt := range []struct {
		name string
		new  func() Executor
		want int64
	}{
		{"blocking is sequential", func() Executor { return NewBlocking(BlockingConfig{Workers: 1}) }, 1},
		{"eventloop is concurrent", func() Executor { return NewLoop(LoopConfig{Loops: 1}) }, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ex := tt.new()
				defer ex.Close()
				var calls gauge
				call := func(context.Context) error {
					calls.inc()
					time.Sleep(10 * time.Millisecond) // fake time
					calls.dec()
					return nil
				}
				err := ex.Do(context.Background(), func(ctx context.Context, rt Runtime) {
					_ = rt.Wait(ctx, call, call, call)
				})
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if got := calls.max.Load(); got != tt.want {
					t.Fatalf("max concurrent waits %d, want %d", got, tt.want)
				}
			})
		})
	}
}

func TestPanicsAreRecovered(t *testing.T) {
	for _, tt := range []struct {
		name string
		ex   Executor
	}{
		{"blocking", NewBlocking(BlockingConfig{Workers: 1})},
		{"eventloop", NewLoop(LoopConfig{Loops: 1})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.ex.Close()
			err := tt.ex.Do(context.Background(), func(ctx context.Context, rt Runtime) {
				rt.CPU(func() { panic("boom") })
			})
			var pe *PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("Do with a panicking task: %v, want *PanicError", err)
			}
			ran := false
			if err := tt.ex.Do(context.Background(), func(ctx context.Context, rt Runtime) { rt.CPU(func() { ran = true }) }); err != nil || !ran {
				t.Fatalf("executor unusable after a panic: %v, ran %v", err, ran)
			}
		})
	}
}

func TestClosedExecutorRefuses(t *testing.T) {
	for _, ex := range []Executor{NewBlocking(BlockingConfig{Workers: 1}), NewLoop(LoopConfig{Loops: 2})} {
		ex.Close()
		ex.Close() // twice is fine
		if err := ex.Do(context.Background(), func(context.Context, Runtime) {}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Do after Close: %v, want ErrClosed", err)
		}
	}
}

func TestBusyRatio(t *testing.T) {
	tests := []struct {
		busy, elapsed time.Duration
		want          float64
	}{
		{0, time.Second, 0},
		{500 * time.Millisecond, time.Second, 0.5},
		{2 * time.Second, time.Second, 1},
		{time.Second, 0, 0},
	}
	for _, tt := range tests {
		if got := BusyRatio(tt.busy, tt.elapsed); got != tt.want {
			t.Errorf("BusyRatio(%v, %v) = %v, want %v", tt.busy, tt.elapsed, got, tt.want)
		}
	}
}

func TestSeveralLoopsShareTheTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLoop(LoopConfig{Loops: 2})
		release := make(chan struct{})
		task := func(ctx context.Context, rt Runtime) {
			rt.CPU(func() { time.Sleep(time.Millisecond) })
			_ = rt.Wait(ctx, func(context.Context) error { <-release; return nil })
		}
		done := make(chan []error)
		go func() { done <- doAll(l, 4, task) }()
		synctest.Wait()
		close(release)
		<-done
		l.Close()
		s := l.Stats()
		if s.MaxRunning != 1 || s.Overlaps != 0 || s.Done != 4 {
			t.Fatalf("stats %+v: want one callback at a time on each loop", s)
		}
		if len(s.BusyRatioLoops) != 2 {
			t.Fatalf("%d loops reported, want 2", len(s.BusyRatioLoops))
		}
		if s.BusyTotal != 4*time.Millisecond {
			t.Fatalf("busy total %v, want 4ms", s.BusyTotal)
		}
	})
}

// A task whose ctx is done while it waits (for a worker, or for its loop) is
// dropped: its work never runs and Do returns the ctx's error. On the loop a
// task stopped between two steps runs none of the later ones either.
func TestCancelledTasksAreDropped(t *testing.T) {
	for _, tc := range []struct {
		name string
		ex   func() Executor
	}{
		{"blocking", func() Executor { return NewBlocking(BlockingConfig{Workers: 1, Backlog: 10}) }},
		{"loop", func() Executor { return NewLoop(LoopConfig{Loops: 1, Backlog: 10}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ex := tc.ex()
				defer ex.Close()
				release := make(chan struct{})
				go func() { // holds the only worker / the loop
					_ = ex.Do(context.Background(), func(_ context.Context, rt Runtime) { rt.CPU(func() { <-release }) })
				}()
				synctest.Wait()
				ctx, leave := context.WithCancel(context.Background())
				var ran atomic.Int64
				errs := make(chan error, 3)
				for range 3 {
					go func() {
						errs <- ex.Do(ctx, func(_ context.Context, rt Runtime) {
							rt.CPU(func() { ran.Add(1) })
							rt.CPU(func() { ran.Add(1) })
						})
					}()
				}
				synctest.Wait() // all three wait for the worker or the loop
				leave()
				close(release)
				for range 3 {
					if err := <-errs; !errors.Is(err, context.Canceled) {
						t.Errorf("Do of a cancelled task = %v, want context.Canceled", err)
					}
				}
				if n := ran.Load(); n != 0 {
					t.Errorf("%d steps of cancelled tasks ran, want 0", n)
				}
			})
		})
	}
}
