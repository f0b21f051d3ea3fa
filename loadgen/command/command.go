// Package command is the loadgen program: Run parses Locust's command line, chooses the
// mode (headless, web UI, master or worker) and runs the test, with Locust's exit codes.
// Run is given to cli.Main by loadgen's own main and by the multi-call binary
// cmd/predictlab; it is a package of its own, not package main, so that one binary can
// hold the three programs.
package command

import (
	"errors"
	"fmt"

	"predictlab/internal/cli"
)

// Locust's exit codes, as loadgen keeps them (loadgen/COMPAT.md, "Exit codes"). The
// results' own code (0, or --exit-code-on-error when a request failed) comes
// from the session.
const (
	// exitBadInput: a bad command line, config or scenario file, an unknown
	// class, a missing host. (argparse's errors exit 2 in Locust; loadgen
	// exits 1 with one line for all bad input, see COMPAT.md.)
	exitBadInput = 1
	// exitInternal: an unexpected error, where Locust prints a traceback.
	exitInternal = 2
)

// configError is a bad command line or input file: exit 1 with one line.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// exitError maps loadgen's errors to cli's exit codes and one-line messages:
// nil and *cli.ExitError (already logged) as they are, *configError to
// "loadgen: error: …" and 1, anything else to "loadgen: internal error: …"
// and 2.
func exitError(err error) error {
	var ee *cli.ExitError
	var ce *configError
	switch {
	case err == nil, errors.As(err, &ee):
		return err
	case errors.As(err, &ce):
		return cli.Exit(exitBadInput, fmt.Errorf("error: %w", ce.err))
	default:
		return cli.Exit(exitInternal, fmt.Errorf("internal error: %w", err))
	}
}
