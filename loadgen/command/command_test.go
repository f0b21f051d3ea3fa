package command

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"predictlab/internal/cli"
)

// origHome is the developer's HOME, where the go command keeps its build and
// module caches (tests that build the binary need it).
var origHome string

// TestMain gives the tests an empty home directory: loadgen reads
// ~/.locust.conf like Locust, and a developer's own file must not change
// what the end-to-end tests run. (Tests that exercise config files set
// their own HOME and working directory.)
func TestMain(m *testing.M) {
	origHome = os.Getenv("HOME")
	home, err := os.MkdirTemp("", "loadgen-test-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// Locust's exit codes as a table: what each kind of error from the command
// becomes (code and the one line cli.Main prints).
func TestExitError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code int
		line string
	}{
		{"clean run", nil, 0, ""},
		{"bad input", &configError{errors.New("parse flags: unknown flag: --nope")}, exitBadInput, "loadgen: error: parse flags: unknown flag: --nope\n"},
		{"already logged", cli.Exit(1, nil), 1, ""},
		{"exit-code-on-error", cli.Exit(3, nil), 3, ""},
		{"internal", errors.New("write results: disk full"), exitInternal, "loadgen: internal error: write results: disk full\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if c := exitCode(exitError(tt.err), &buf); c != tt.code || buf.String() != tt.line {
			t.Errorf("%s: code %d, line %q; want %d, %q", tt.name, c, buf.String(), tt.code, tt.line)
		}
	}
}
