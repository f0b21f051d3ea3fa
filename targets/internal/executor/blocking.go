package executor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// BlockingConfig configures a Blocking executor.
type BlockingConfig struct {
	Workers int // size of the worker pool (W), > 0
	Backlog int // tasks that may wait for a worker; past it Do returns ErrOverloaded
	Hooks   Hooks
}

// Blocking is a fixed pool of worker goroutines fed by a bounded FIFO queue.
// Safe for concurrent use.
type Blocking struct {
	cfg   BlockingConfig
	queue chan *job

	mu     sync.RWMutex // guards closed against Do's send
	closed bool

	cancel context.CancelFunc
	wg     sync.WaitGroup

	busy, maxBusy atomic.Int64
	busyNS        atomic.Int64 // total time workers spent on tasks
	pending       atomic.Int64 // admitted and not finished (queued + busy)
	maxQueued     atomic.Int64 // highest pending-Workers seen
	done          atomic.Int64
}

type job struct {
	ctx      context.Context
	task     Task
	enqueued time.Time
	err      error
	finished chan struct{}
}

// BlockingStats is a snapshot of a Blocking executor's counters.
type BlockingStats struct {
	Workers   int   // pool size
	Busy      int64 // workers running a task now
	MaxBusy   int64 // highest Busy seen
	Queued    int64 // tasks waiting for a worker now
	MaxQueued int64 // highest Queued seen
	Done      int64 // tasks finished
	// BusyTotal is the time workers have spent on tasks, summed over workers:
	// utilisation over an interval is ΔBusyTotal / (Workers × interval).
	BusyTotal time.Duration
}

// NewBlocking starts the worker pool. Call Close to stop it.
func NewBlocking(cfg BlockingConfig) *Blocking {
	cfg.Workers = max(cfg.Workers, 1)
	cfg.Backlog = max(cfg.Backlog, 0)
	ctx, cancel := context.WithCancel(context.Background())
	b := &Blocking{cfg: cfg, queue: make(chan *job, cfg.Workers+cfg.Backlog), cancel: cancel}
	b.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go b.worker(ctx)
	}
	return b
}

// Do queues task for a worker and waits until it has run. It returns
// ErrOverloaded at once when all workers are busy and Backlog tasks are waiting.
func (b *Blocking) Do(ctx context.Context, task Task) error {
	j := &job{ctx: ctx, task: task, enqueued: time.Now(), finished: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	n := b.pending.Add(1)
	if n > int64(b.cfg.Workers+b.cfg.Backlog) {
		b.pending.Add(-1)
		b.mu.RUnlock()
		return ErrOverloaded
	}
	storeMax(&b.maxQueued, n-int64(b.cfg.Workers))
	b.queue <- j // never blocks: the channel holds Workers+Backlog jobs
	b.mu.RUnlock()
	<-j.finished
	return j.err
}

func (b *Blocking) worker(ctx context.Context) {
	defer b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.queue:
			if err := j.ctx.Err(); err != nil {
				// The client went away while queued: drop the job unrun.
				j.err = err
				b.pending.Add(-1)
				b.done.Add(1)
				close(j.finished)
				continue
			}
			storeMax(&b.maxBusy, b.busy.Add(1))
			start := time.Now()
			if h := b.cfg.Hooks.QueueWait; h != nil {
				h(start.Sub(j.enqueued))
			}
			j.err = runTask(j.ctx, j.task, blockingRuntime{})
			b.busyNS.Add(int64(time.Since(start)))
			b.busy.Add(-1)
			b.pending.Add(-1)
			b.done.Add(1)
			close(j.finished)
		}
	}
}

// Stats returns a snapshot of the counters.
func (b *Blocking) Stats() BlockingStats {
	return BlockingStats{
		Workers:   b.cfg.Workers,
		Busy:      b.busy.Load(),
		MaxBusy:   b.maxBusy.Load(),
		Queued:    max(b.pending.Load()-b.busy.Load(), 0),
		MaxQueued: max(b.maxQueued.Load(), 0),
		Done:      b.done.Load(),
		BusyTotal: time.Duration(b.busyNS.Load()),
	}
}

// Close stops the workers once the queue is empty. Tasks still queued (Do racing
// with Close) fail with ErrClosed.
func (b *Blocking) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	for {
		select {
		case j := <-b.queue:
			b.pending.Add(-1)
			j.err = ErrClosed
			close(j.finished)
		default:
			return
		}
	}
}

// blockingRuntime runs everything in the calling worker, waits one after another.
type blockingRuntime struct{}

func (blockingRuntime) CPU(fn func()) { fn() }

func (blockingRuntime) Wait(ctx context.Context, calls ...func(context.Context) error) error {
	for _, c := range calls {
		if err := c(ctx); err != nil {
			return err
		}
	}
	return nil
}

func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}
