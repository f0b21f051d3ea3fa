// Package executor provides the two concurrency styles the lab compares, as layers
// independent of the HTTP framework:
//
//   - Blocking: a fixed pool of W worker goroutines fed by a bounded FIFO queue
//     (gunicorn sync workers). A request holds its worker from start to finish,
//     through every downstream wait, and makes its waits one after another.
//   - Loop: L single-threaded event loops (uvicorn + asyncio). The CPU parts of a
//     request run as callbacks on its loop, one callback at a time; every wait
//     happens off the loop, and concurrent waits are issued together.
//
// Both implement Executor. A task receives a Runtime through which it runs its CPU
// work and its waits; the business logic (package predict) is written once against it.
package executor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Runtime executes the steps of one task; see package predict for its contract.
type Runtime interface {
	CPU(fn func())
	Wait(ctx context.Context, calls ...func(ctx context.Context) error) error
}

// Task is one request's work. It runs under the executor's Runtime.
type Task func(ctx context.Context, rt Runtime)

// Executor runs tasks. Do blocks until the task has finished, or returns an error
// at once when the task was not admitted. A task whose ctx is done (its client
// went away) before it got a worker, or between two of its loop callbacks, is
// dropped without running further: Do then returns ctx's error. Safe for
// concurrent use.
type Executor interface {
	Do(ctx context.Context, task Task) error
	// Close stops the executor after the tasks in flight have finished. Do must
	// not be called after Close.
	Close()
}

// The two styles are Executors and give their tasks a Runtime.
var (
	_ Executor = (*Blocking)(nil)
	_ Executor = (*Loop)(nil)
	_ Runtime  = blockingRuntime{}
	_ Runtime  = loopRuntime{}
)

// ErrOverloaded is returned by Do when the queue (backlog) is full.
var ErrOverloaded = errors.New("server overloaded: queue is full")

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("executor closed")

// PanicError is returned by Do when the task panicked; the panic was recovered.
type PanicError struct{ Value any }

// Error describes the panic.
func (e *PanicError) Error() string { return fmt.Sprintf("task panicked: %v", e.Value) }

// Hooks receive measurements as they happen; nil fields are skipped. They must be
// safe for concurrent use and fast.
type Hooks struct {
	QueueWait func(time.Duration) // blocking: time a task waited in the queue
	Lag       func(time.Duration) // loop: time a ready callback waited for its loop
	Busy      func(time.Duration) // loop: time the loop spent running one callback
}

// abandoned is the panic value with which a loop Runtime stops a task whose
// ctx is done before its next callback; runTask turns it into ctx's error.
type abandoned struct{ err error }

// runTask runs task and turns a panic into a *PanicError.
func runTask(ctx context.Context, task Task, rt Runtime) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if a, ok := v.(abandoned); ok {
				err = a.err
				return
			}
			err = &PanicError{Value: v}
		}
	}()
	task(ctx, rt)
	return nil
}
