// Command lab is predictlab's one-shot reproduction of the seed's four
// experiments: it starts the services, runs loadgen against the blocking
// (sync) and event-loop (async) targets, and writes an explaining report.
//
//	lab run [--profile full|quick|smoke|seed] [--out DIR] ...
//	lab report DIR
//
// `lab report DIR` rebuilds a finished run's report from its folder. See
// `lab run --help`.
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

// version is stamped by the Makefile (-X main.version=...).
var version = "dev"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	hurry := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case <-sigs:
				n++
				if n == 1 {
					fmt.Fprintln(os.Stderr, "\nlab: interrupted; stopping children and writing the partial report (Ctrl-C again to kill at once)")
					cancel()
				} else if n == 2 {
					fmt.Fprintln(os.Stderr, "lab: killing children now")
					close(hurry)
				}
			}
		}
	}()
	err := run(ctx, hurry, os.Args[1:], os.Stdout, os.Stderr)
	close(done)
	signal.Stop(sigs)
	code := exitCode(ctx, err, os.Stderr)
	cancel()
	os.Exit(code)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "lab:", err)
		return 130
	default:
		fmt.Fprintln(stderr, "lab:", err)
		return 1
	}
}
