package executor

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// LoopConfig configures a Loop executor.
type LoopConfig struct {
	Loops   int // number of single-threaded loops (L), > 0
	Backlog int // tasks that may be in flight at once; past it Do returns ErrOverloaded
	Hooks   Hooks
	// RunQueue is the capacity of each loop's run-queue channel (default 4096);
	// posting to a full run-queue blocks the poster.
	RunQueue int
}

// Loop is a set of single-threaded event loops. Each loop is one goroutine that
// runs callbacks from its run-queue, one at a time. A task is bound to one loop
// (round robin); its CPU steps are posted to that loop as callbacks, and its waits
// happen off the loop, in goroutines, after which the next step is posted back.
// Safe for concurrent use.
type Loop struct {
	cfg   LoopConfig
	loops []*loop
	next  atomic.Uint64

	mu     sync.RWMutex // guards closed against Do's tasks.Add
	closed bool
	tasks  sync.WaitGroup
	loopWG sync.WaitGroup

	inflight, maxInflight atomic.Int64
	done                  atomic.Int64

	stopTicker chan struct{}
	tickerWG   sync.WaitGroup
}

type loop struct {
	hooks   Hooks
	runq    chan *callback
	running atomic.Int32 // callbacks running now: must never exceed 1
	overlap atomic.Int64 // times a callback started while another was running
	maxRun  atomic.Int64
	busyNS  atomic.Int64 // total time spent running callbacks
	ratio   atomic.Uint64
	lastNS  int64 // busyNS at the last tick (ticker goroutine only)
}

type callback struct {
	ctx      context.Context
	fn       func()
	skipped  bool // ctx was done when the loop reached it: fn did not run
	ready    time.Time
	panicked any
	finished chan struct{}
}

// LoopStats is a snapshot of a Loop executor's counters, summed over its loops.
type LoopStats struct {
	Loops          int
	InFlight       int64         // tasks admitted and not finished
	MaxInFlight    int64         // highest InFlight seen
	Done           int64         // tasks finished
	RunQueue       int64         // callbacks ready and waiting for their loop now
	MaxRunning     int64         // most callbacks ever running at once on one loop (must be <= 1)
	Overlaps       int64         // times a callback started while another ran on its loop (must be 0)
	BusyTotal      time.Duration // time spent running callbacks
	BusyRatio      float64       // mean over loops of the busy fraction in the last second
	BusyRatioLoops []float64     // per loop
}

// NewLoop starts the loops. Call Close to stop them.
func NewLoop(cfg LoopConfig) *Loop {
	cfg.Loops = max(cfg.Loops, 1)
	if cfg.RunQueue <= 0 {
		cfg.RunQueue = 4096
	}
	l := &Loop{cfg: cfg, stopTicker: make(chan struct{})}
	for range cfg.Loops {
		lp := &loop{hooks: cfg.Hooks, runq: make(chan *callback, cfg.RunQueue)}
		l.loops = append(l.loops, lp)
		l.loopWG.Add(1)
		go func() {
			defer l.loopWG.Done()
			lp.run()
		}()
	}
	l.tickerWG.Add(1)
	go l.tick()
	return l
}

// Do runs task in the calling goroutine (the task's "coroutine"), with its CPU
// steps posted to one loop. It returns ErrOverloaded at once when Backlog tasks
// are already in flight.
func (l *Loop) Do(ctx context.Context, task Task) error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	n := l.inflight.Add(1)
	if l.cfg.Backlog > 0 && n > int64(l.cfg.Backlog) {
		l.inflight.Add(-1)
		l.mu.RUnlock()
		return ErrOverloaded
	}
	l.tasks.Add(1)
	l.mu.RUnlock()
	defer l.tasks.Done()
	storeMax(&l.maxInflight, n)
	lp := l.loops[(l.next.Add(1)-1)%uint64(len(l.loops))]
	err := runTask(ctx, task, loopRuntime{lp: lp, ctx: ctx})
	l.inflight.Add(-1)
	l.done.Add(1)
	return err
}

// Stats returns a snapshot of the counters.
func (l *Loop) Stats() LoopStats {
	s := LoopStats{
		Loops:       len(l.loops),
		InFlight:    l.inflight.Load(),
		MaxInFlight: l.maxInflight.Load(),
		Done:        l.done.Load(),
	}
	for _, lp := range l.loops {
		s.RunQueue += int64(len(lp.runq))
		s.MaxRunning = max(s.MaxRunning, lp.maxRun.Load())
		s.Overlaps += lp.overlap.Load()
		s.BusyTotal += time.Duration(lp.busyNS.Load())
		r := math.Float64frombits(lp.ratio.Load())
		s.BusyRatioLoops = append(s.BusyRatioLoops, r)
		s.BusyRatio += r / float64(len(l.loops))
	}
	return s
}

// Close waits for the tasks in flight, then stops the loops.
func (l *Loop) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	l.tasks.Wait()
	for _, lp := range l.loops {
		close(lp.runq)
	}
	l.loopWG.Wait()
	close(l.stopTicker)
	l.tickerWG.Wait()
}

// tick updates each loop's busy ratio once a second.
func (l *Loop) tick() {
	defer l.tickerWG.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-l.stopTicker:
			return
		case now := <-t.C:
			elapsed := now.Sub(last)
			last = now
			for _, lp := range l.loops {
				cur := lp.busyNS.Load()
				lp.ratio.Store(math.Float64bits(BusyRatio(time.Duration(cur-lp.lastNS), elapsed)))
				lp.lastNS = cur
			}
		}
	}
}

// BusyRatio is busy/elapsed clamped to [0, 1].
func BusyRatio(busy, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	r := float64(busy) / float64(elapsed)
	return min(max(r, 0), 1)
}

// run is the loop goroutine: callbacks one at a time, in the order they were posted.
func (lp *loop) run() {
	for cb := range lp.runq {
		if cb.ctx.Err() != nil {
			// Its client went away while it waited: no loop time for it.
			cb.skipped = true
			close(cb.finished)
			continue
		}
		start := time.Now()
		if h := lp.hooks.Lag; h != nil {
			h(start.Sub(cb.ready))
		}
		n := lp.running.Add(1)
		if n > 1 {
			lp.overlap.Add(1)
		}
		storeMax(&lp.maxRun, int64(n))
		cb.panicked = callSafely(cb.fn)
		lp.running.Add(-1)
		d := time.Since(start)
		lp.busyNS.Add(int64(d))
		if h := lp.hooks.Busy; h != nil {
			h(d)
		}
		close(cb.finished)
	}
}

func callSafely(fn func()) (panicked any) {
	defer func() { panicked = recover() }()
	fn()
	return nil
}

// loopRuntime posts CPU steps to its loop and waits off the loop.
type loopRuntime struct {
	lp  *loop
	ctx context.Context // the task's: once done, no more callbacks run
}

// CPU posts fn to the loop and waits until the loop has run it. A panic in fn is
// re-raised in the caller (and recovered by Do). When the task's ctx is done
// before fn runs, fn is skipped and the task stops (Do returns ctx's error).
func (r loopRuntime) CPU(fn func()) {
	if err := r.ctx.Err(); err != nil {
		panic(abandoned{err})
	}
	cb := &callback{ctx: r.ctx, fn: fn, ready: time.Now(), finished: make(chan struct{})}
	r.lp.runq <- cb
	<-cb.finished
	if cb.skipped {
		panic(abandoned{r.ctx.Err()})
	}
	if cb.panicked != nil {
		panic(cb.panicked)
	}
}

// Wait issues all calls at once, each in its own goroutine (off the loop), and
// waits for all of them; it returns the first error in call order.
func (loopRuntime) Wait(ctx context.Context, calls ...func(context.Context) error) error {
	if len(calls) == 1 {
		return calls[0](ctx)
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	wg.Add(len(calls))
	for i, c := range calls {
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					errs[i] = &PanicError{Value: v}
				}
			}()
			errs[i] = c(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
