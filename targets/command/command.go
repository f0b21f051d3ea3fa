// Package command is the targets program (see its main package, predictlab/targets, for
// the commands): Run is the program, given to cli.Main by targets' own main and by the
// multi-call binary cmd/predictlab. It is a package of its own, not package main, so
// that one binary can hold the three programs.
package command

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

// SetUpProcess does what a process runs once before Run, and Run itself cannot do for
// each call: the Redis client library logs through a process-wide logger, routed here to
// stderr at warn level. targets' main and cmd/predictlab call it; tests that call Run
// in-process leave the library's logger as it is.
func SetUpProcess() {
	featurestore.SetClientLogger(zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger())
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

// Run is the whole targets program (a cli.RunFunc, what main hands to cli.Main): it
// returns when the command is done or ctx is cancelled. A command-line mistake exits 2,
// any other error 1.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
