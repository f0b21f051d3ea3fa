package main

import (
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// delayer makes /delay/<ms> answer after that many milliseconds, late by
// less than time.Sleep is. The runtime's poller waits in whole milliseconds,
// so a time.Sleep ends with one more millisecond-long wait: under the bench's
// 500-user load, 50 ms sleeps measured a median of 50.6–50.8 ms in the
// handler, and that lateness is charged to the client under test, whose
// budget over a 50 ms endpoint is 1 ms at the median. With this delayer the
// same load measured 50.3–50.4 ms (the rest is waking threads on a VM).
// Each delay length gets a queue served by one goroutine on its own OS
// thread, which sleeps with clock_nanosleep to an absolute deadline (timer
// slack 1 ns) and releases every waiter that is due. Waiters of one delay
// length are due in arrival order, so a FIFO is enough. Every distinct
// length keeps a thread for the life of the process: the bench uses one.
type delayer struct {
	mu     sync.Mutex
	queues map[time.Duration]*delayQueue
}

type delayQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	waiters []waiter // due in order
}

type waiter struct {
	due  int64 // CLOCK_MONOTONIC nanoseconds
	done chan struct{}
}

func newDelayer() *delayer { return &delayer{queues: map[time.Duration]*delayQueue{}} }

// Sleep returns d after it was called. Safe for concurrent use.
func (l *delayer) Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	l.mu.Lock()
	q := l.queues[d]
	if q == nil {
		q = &delayQueue{}
		q.cond = sync.NewCond(&q.mu)
		l.queues[d] = q
		go q.serve()
	}
	l.mu.Unlock()
	w := waiter{due: monotonic() + int64(d), done: make(chan struct{})}
	q.mu.Lock()
	q.waiters = append(q.waiters, w)
	if len(q.waiters) == 1 {
		q.cond.Signal()
	}
	q.mu.Unlock()
	<-w.done
}

// serve runs for the life of the process (the benchmark target has no
// other shutdown than exiting).
func (q *delayQueue) serve() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	for {
		q.mu.Lock()
		for len(q.waiters) == 0 {
			q.cond.Wait()
		}
		due := q.waiters[0].due
		q.mu.Unlock()
		ts := unix.NsecToTimespec(due)
		for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
		}
		now := monotonic()
		q.mu.Lock()
		n := 0
		for n < len(q.waiters) && q.waiters[n].due <= now {
			close(q.waiters[n].done)
			n++
		}
		q.waiters = append(q.waiters[:0], q.waiters[n:]...)
		q.mu.Unlock()
	}
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
