package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"success", nil, 0, ""},
		{"help", ErrHelp, 0, ""},
		{"wrapped help", fmt.Errorf("parse: %w", ErrHelp), 0, ""},
		{"plain error", errors.New("open x: no such file"), 1, "prog: open x: no such file\n"},
		{"exit code with message", Exit(2, errors.New("unknown flag --x")), 2, "prog: unknown flag --x\n"},
		{"silent exit code", Exit(3, nil), 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			run := func(context.Context, []string, io.Writer, io.Writer) error { return c.err }
			code := main("prog", run, nil, io.Discard, &stderr, make(chan os.Signal))
			if code != c.code || stderr.String() != c.stderr {
				t.Errorf("code %d stderr %q, want %d %q", code, stderr.String(), c.code, c.stderr)
			}
		})
	}
}

// blockUntilCancelled is a program that stops only when its context is cancelled.
func blockUntilCancelled(ret error) RunFunc {
	return func(ctx context.Context, _ []string, _, _ io.Writer) error {
		<-ctx.Done()
		return ret
	}
}

func TestFirstSignalCancels(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 2)
	sigs <- syscall.SIGHUP // a closed terminal stops the program like Ctrl-C
	var stderr bytes.Buffer
	if code := main("prog", blockUntilCancelled(nil), nil, io.Discard, &stderr, sigs); code != 0 {
		t.Errorf("a program that finished cleanly after the signal: code %d, want 0", code)
	}
	sigs <- syscall.SIGTERM
	stderr.Reset()
	code := main("prog", blockUntilCancelled(errors.New("stopped")), nil, io.Discard, &stderr, sigs)
	if code != ExitInterrupted || !strings.Contains(stderr.String(), "prog: stopped") {
		t.Errorf("code %d stderr %q, want %d and one line", code, stderr.String(), ExitInterrupted)
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 2)
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	never := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		select {} // ignores its context, as a stuck drain would
	}
	var stderr bytes.Buffer
	if code := main("prog", never, nil, io.Discard, &stderr, sigs); code != ExitInterrupted {
		t.Errorf("code %d, want %d", code, ExitInterrupted)
	}
	if !strings.Contains(stderr.String(), "second signal") {
		t.Errorf("stderr %q does not say why it exited", stderr.String())
	}
}

func TestHurriedIsClosedBySecondSignal(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 2)
	acted := make(chan struct{})
	run := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		hurried := Hurried(ctx)
		<-ctx.Done()
		sigs <- os.Interrupt // the user presses Ctrl-C again while we clean up slowly
		select {
		case <-hurried:
			close(acted)
		case <-time.After(time.Minute):
		}
		return nil
	}
	sigs <- os.Interrupt
	code := main("prog", run, nil, io.Discard, io.Discard, sigs)
	select {
	case <-acted:
	default:
		t.Fatal("the program never saw the second signal through Hurried")
	}
	if code != ExitInterrupted && code != 0 {
		t.Errorf("code %d", code)
	}
}

func TestHurriedOutsideMainNeverCloses(t *testing.T) {
	t.Parallel()
	select {
	case <-Hurried(context.Background()):
		t.Fatal("closed")
	default:
	}
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	if got, want := VersionLine("lab"), "lab dev (commit unknown)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The program can tell which signal stopped it (loadgen logs Locust's "Got SIGHUP signal").
func TestSignalNamesTheSignal(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 1)
	sigs <- syscall.SIGHUP
	if Signal(context.Background()) != nil {
		t.Fatal("Signal of a context no signal cancelled")
	}
	var got os.Signal
	run := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		<-ctx.Done()
		got = Signal(ctx)
		return nil
	}
	if code := main("prog", run, nil, io.Discard, io.Discard, sigs); code != 0 || got != syscall.SIGHUP {
		t.Fatalf("code %d, Signal %v; want 0, hangup", code, got)
	}
}
