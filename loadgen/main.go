// Command loadgen is a Locust-compatible load generator: Locust's command line,
// console output and CSV files, with built-in user classes from the seed's
// benchmark.py and more from a YAML scenario file (-f). See run.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&signalError{sig})
		sig = <-sigs // a second signal: exit at once
		fmt.Fprintf(os.Stderr, "loadgen: second %s, exiting at once\n", sig)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(exitCode(err, os.Stderr))
}

// signalError is the cancellation cause when a signal stops the run.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "got " + e.sig.String() }

// exitError carries a specific exit code; its reason has already been logged.
type exitError struct {
	code int
}

func (e *exitError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// configError is a bad command line or input file: exit 1 with one line.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// exitCode maps run's error to the process exit code (Locust's: 1 for bad
// input, 2 for internal errors), printing the one-line message if needed.
func exitCode(err error, stderr io.Writer) int {
	var ee *exitError
	var ce *configError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "loadgen: error: %s\n", ce.err)
		return 1
	default:
		fmt.Fprintf(stderr, "loadgen: internal error: %s\n", err)
		return 2
	}
}
