// Command targets runs the services the lab measures: the sync (blocking) and async
// (event-loop) scoring and model services, and the feature store.
//
//	targets all                       all five services in one process (Ctrl-C drains and exits 0; a second Ctrl-C exits at once)
//	targets model   --style ... --framework ... --addr HOST:PORT
//	targets scoring --style ... --framework ... --addr HOST:PORT --model-url URL --feature-store URL
//	targets featurestore --addr HOST:PORT
//	targets healthcheck URL           exit 0 iff GET URL answers 200 within 2 s
//
// Run "targets <command> --help" for each command's flags.
//
// Exposure: every service binds 127.0.0.1 unless told otherwise, and answers GET
// /metrics with its internals plus the Go runtime's and the process's metrics
// (memory, open files, goroutines). Bind wider (--addr, --bind) only on
// purpose, and do not publish /metrics beyond the machines that measure. The
// embedded feature store stays on loopback in "targets all" unless
// --store-bind says otherwise; --feature-store-password (or
// $PREDICTLAB_FEATURE_STORE_PASSWORD) makes it require AUTH.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"predictlab/internal/cli"
	"predictlab/targets/internal/featurestore"
)

// main is the shared front door: the first Ctrl-C/SIGTERM/SIGHUP drains the services
// and exits 0, a second exits at once (130).
func main() {
	// The Redis client library logs through a process-wide logger: route it once, here.
	featurestore.SetClientLogger(zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger())
	cli.Main("targets", run)
}

const usage = `usage: targets <command> [flags]

commands:
  all           run the feature store and the four services (sync model 5000, sync scoring 5001,
                async model 8000, async scoring 8001, store 6379) until Ctrl-C / SIGTERM
  model         run one model service
  scoring       run one scoring service
  featurestore  run the embedded feature store (Redis protocol)
  healthcheck   GET a URL; exit 0 iff it answers 200 within 2 s
  version       print the version (also --version)

Run "targets <command> --help" for the command's flags.
Services bind 127.0.0.1 by default; /metrics shows process internals: publish it on purpose only.
`

// run is the whole program: it returns when the command is done or ctx is cancelled.
// A command-line mistake exits 2, any other error 1.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := runCommand(ctx, args, stdout, stderr)
	var ue *usageError
	if errors.As(err, &ue) {
		return cli.Exit(2, err)
	}
	return err
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &usageError{errors.New("missing command")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "all":
		return runAll(ctx, rest, stdout, stderr)
	case "model":
		return runModel(ctx, rest, stdout, stderr)
	case "scoring":
		return runScoring(ctx, rest, stdout, stderr)
	case "featurestore":
		return runFeatureStore(ctx, rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, cli.VersionLine("targets"))
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &usageError{fmt.Errorf("unknown command %q", cmd)}
	}
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }
