package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestChoose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		argv     []string
		program  string
		progArgv []string // nil: no program
	}{
		{"link named targets", []string{"/usr/local/bin/targets", "all", "--bind", "0.0.0.0"}, "targets", []string{"/usr/local/bin/targets", "all", "--bind", "0.0.0.0"}},
		{"link named loadgen", []string{"loadgen", "--headless"}, "loadgen", []string{"loadgen", "--headless"}},
		{"link named lab, no arguments", []string{"./bin/lab"}, "lab", []string{"./bin/lab"}},
		{"predictlab lab run", []string{"/usr/local/bin/predictlab", "lab", "run", "--profile", "smoke"}, "lab", []string{"lab", "run", "--profile", "smoke"}},
		{"predictlab targets", []string{"predictlab", "targets"}, "targets", []string{"targets"}},
		{"predictlab loadgen --version", []string{"predictlab", "loadgen", "--version"}, "loadgen", []string{"loadgen", "--version"}},
		{"predictlab alone", []string{"predictlab"}, "", nil},
		{"predictlab, unknown program", []string{"predictlab", "locust", "-f", "x.py"}, "", nil},
		{"predictlab, a flag first", []string{"predictlab", "--version"}, "", nil},
		{"predictlab predictlab", []string{"predictlab", "predictlab", "lab"}, "", nil},
		{"unknown name", []string{"/usr/bin/other", "lab", "run"}, "", nil},
		{"name only similar", []string{"labs", "run"}, "", nil},
		{"no argv at all", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, progArgv, ok := choose(tt.argv)
			if ok != (tt.progArgv != nil) || name != tt.program || !slices.Equal(progArgv, tt.progArgv) {
				t.Errorf("choose(%q) = %q, %q, %v; want %q, %q", tt.argv, name, progArgv, ok, tt.program, tt.progArgv)
			}
		})
	}
}

// runMainEnv makes the test binary run main instead of the tests, so that
// TestMultiCall runs the real binary under other names (links to the test binary)
// without a build step.
const runMainEnv = "PREDICTLAB_MULTICALL_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestMultiCall runs the binary through links named as the image names them: each
// program answers as its own binary does (--version line, the program's name in its
// messages, its exit codes), and any other name or program is one line of usage and
// exit code 2.
func TestMultiCall(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"predictlab", "targets", "loadgen", "lab", "other"} {
		if err := os.Symlink(exe, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		argv   []string
		code   int
		stdout string
		stderr string
		tail   bool // stderr only ends with stderr (targets prints its commands first)
	}{
		{"targets --version", []string{"targets", "--version"}, 0, "targets dev (commit unknown)\n", "", false},
		{"loadgen --version", []string{"loadgen", "--version"}, 0, "loadgen dev (commit unknown)\n", "", false},
		{"lab --version", []string{"lab", "--version"}, 0, "lab dev (commit unknown)\n", "", false},
		{"predictlab lab --version", []string{"predictlab", "lab", "--version"}, 0, "lab dev (commit unknown)\n", "", false},
		{"predictlab targets, unknown command", []string{"predictlab", "targets", "nope"}, 2, "", "\ntargets: unknown command \"nope\"\n", true},
		{"predictlab alone", []string{"predictlab"}, 2, "", usage + "\n", false},
		{"predictlab, unknown program", []string{"predictlab", "locust"}, 2, "", usage + "\n", false},
		{"unknown name", []string{"other", "lab", "--version"}, 2, "", usage + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(dir, tt.argv[0]), tt.argv[1:]...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			gotErr := stderr.String()
			if tt.tail && strings.HasSuffix(gotErr, tt.stderr) {
				gotErr = tt.stderr
			}
			if code != tt.code || stdout.String() != tt.stdout || gotErr != tt.stderr {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.argv, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
