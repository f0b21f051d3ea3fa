// Package cli is the one front door of predictlab's three programs (targets, loadgen and
// lab): how a main turns signals into a context, an error into an exit code, and how
// --version reads.
//
// A main is one line:
//
//	func main() { cli.Main("lab", run) }
//
// where run(ctx, args, stdout, stderr) is the whole program. Main gives run a context that
// is cancelled by the first SIGINT, SIGTERM or SIGHUP (a closed terminal is a request to
// stop, not a crash), so the program can stop its work and still write what it has. A
// second signal means "now": Main exits at once with 130, except that a program which asked
// for Hurried(ctx) is first given a moment to act on it (the lab kills its children's
// process groups, which would otherwise outlive it).
//
// SIGPIPE is caught, not fatal: with stdout piped into a reader that went away (`loadgen …
// | head`, a tee killed by Ctrl-C), a write fails with EPIPE instead of killing the process
// before it writes its result files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Version and Commit name the build. The Makefile and the Dockerfile set them with
// -ldflags "-X predictlab/internal/cli.Version=… -X predictlab/internal/cli.Commit=…";
// a plain `go build` leaves the defaults.
var (
	Version = "dev"
	Commit  = "unknown"
)

// VersionLine is what --version prints: "NAME VERSION (commit COMMIT)".
func VersionLine(name string) string {
	return fmt.Sprintf("%s %s (commit %s)", name, Version, Commit)
}

// RunFunc is a whole program: it returns when the work is done or ctx is cancelled.
// It writes only to stdout and stderr, never to os.Stdout/os.Stderr directly, so tests can
// run it in-process.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// ErrHelp is returned by a program that printed its help on request: exit code 0.
var ErrHelp = pflag.ErrHelp

// ExitError makes run's error a specific exit code. Err, when not nil, is printed as one
// line; a nil Err exits silently (the program has already said what went wrong).
type ExitError struct {
	Code int
	Err  error
}

// Exit returns an *ExitError with the code and error.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitInterrupted is the exit code of a program stopped by a signal before it finished
// (128 + SIGINT, as shells report it).
const ExitInterrupted = 130

// hurryGrace bounds how long Main waits, after the second signal, for a program that asked
// for Hurried to act on it.
const hurryGrace = 5 * time.Second

type hurryKey struct{}

// hurry is the second-signal state a context carries.
type hurry struct {
	once    sync.Once
	ch      chan struct{}
	mu      sync.Mutex
	watched bool
}

// Hurried returns a channel that is closed when a second signal arrives. Calling it tells
// Main that the program acts on it (for instance by killing its children at once), so Main
// waits up to a few seconds for run to return instead of exiting immediately. Outside Main
// (in tests) it returns a channel that is never closed.
func Hurried(ctx context.Context) <-chan struct{} {
	h, ok := ctx.Value(hurryKey{}).(*hurry)
	if !ok {
		return make(chan struct{})
	}
	h.mu.Lock()
	h.watched = true
	h.mu.Unlock()
	return h.ch
}

// Main runs run with the process's arguments and exits with the code its error maps to.
func Main(name string, run RunFunc) {
	os.Exit(main(name, run, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// main is Main without os.Exit and with injectable signals, for tests.
func main(name string, run RunFunc, args []string, stdout, stderr io.Writer, sigs chan os.Signal) int {
	// SIGPIPE: a handler (rather than SIG_IGN) so that child processes, which get the default
	// action back at exec, are not changed. The channel is never read: dropping is fine.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	if sigs == nil {
		sigs = make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
	}
	h := &hurry{ch: make(chan struct{})}
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), hurryKey{}, h))
	defer cancel(nil)

	done := make(chan int, 1)
	go func() { done <- exitCode(name, ctx, run(ctx, args, stdout, stderr), stderr) }()

	interrupted := false
	for {
		select {
		case code := <-done:
			return code
		case sig := <-sigs:
			if !interrupted {
				interrupted = true
				cancel(&SignalError{Signal: sig})
				continue
			}
			h.once.Do(func() { close(h.ch) })
			h.mu.Lock()
			watched := h.watched
			h.mu.Unlock()
			if watched {
				select {
				case <-done:
				case <-time.After(hurryGrace):
				}
			}
			fmt.Fprintf(stderr, "%s: second signal (%v): exiting now\n", name, sig)
			return ExitInterrupted
		}
	}
}

// errInterrupted is the cancel cause of a context stopped by a signal.
var errInterrupted = errors.New("interrupted")

// SignalError is the cancel cause of a context Main stopped on a signal; it names the
// signal, for programs that log which one it was (loadgen writes Locust's "Got SIGINT
// signal"). errors.Is(err, ErrInterrupted)-style checks go through Interrupted.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return errInterrupted.Error() + ": " + e.Signal.String() }

// Is makes a *SignalError match errInterrupted.
func (e *SignalError) Is(target error) bool { return target == errInterrupted }

// Interrupted reports whether ctx was cancelled by a signal (rather than finishing).
func Interrupted(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errInterrupted)
}

// Signal returns the signal that cancelled ctx, or nil if no signal did.
func Signal(ctx context.Context) os.Signal {
	var se *SignalError
	if errors.As(context.Cause(ctx), &se) {
		return se.Signal
	}
	return nil
}

// exitCode maps run's result to the process's exit code, printing at most one line.
func exitCode(name string, ctx context.Context, err error, stderr io.Writer) int {
	var ee *ExitError
	switch {
	case err == nil, errors.Is(err, ErrHelp):
		return 0
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, ee.Err)
		}
		return ee.Code
	case Interrupted(ctx):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitInterrupted
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}
