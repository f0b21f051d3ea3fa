package command

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/cli"
	"predictlab/internal/testutil"
	"predictlab/lab/internal/proc"
	"predictlab/lab/internal/results"
)

// buildBinaries compiles targets, loadgen and lab into a temporary folder.
func buildBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end lab run skipped in -short mode")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "predictlab/targets", "predictlab/loadgen", "predictlab/lab")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// freePorts returns n distinct free loopback ports for the services.
func freePorts(t *testing.T, n int) []int { return testutil.ServicePorts(t, n) }

func labArgs(bin, out string, ports []int, extra ...string) []string {
	a := []string{"run", "--profile", "smoke", "--out", out,
		"--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]),
		"--targets-bin", filepath.Join(bin, "targets"), "--loadgen-bin", filepath.Join(bin, "loadgen")}
	return append(a, extra...)
}

// childPids reads the pids of every child the lab started from lab.log.
func childPids(t *testing.T, out string) map[int]string {
	t.Helper()
	f, err := os.Open(filepath.Join(out, "lab.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pids := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Message string `json:"message"`
			Child   string `json:"child"`
			Pid     int    `json:"pid"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Message == "started child" {
			pids[ev.Pid] = ev.Child
		}
	}
	return pids
}

func assertNoChildren(t *testing.T, out string, wantAtLeast int) {
	t.Helper()
	pids := childPids(t, out)
	if len(pids) < wantAtLeast {
		t.Errorf("lab.log lists %d children, want ≥ %d", len(pids), wantAtLeast)
	}
	for pid, name := range pids {
		if proc.Alive(pid) {
			t.Errorf("child %s (pid %d) still running", name, pid)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// TestSmokeEndToEnd runs the smoke profile with real child processes on
// free ports and reads the report back.
func TestSmokeEndToEnd(t *testing.T) {
	bin := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"), labArgs(bin, out, freePorts(t, 5))...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("lab output:\n%s%s", stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("lab run: %v", err)
	}
	assertNoChildren(t, out, 5+8)

	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "complete" || len(r.Targets) != 2 {
		t.Fatalf("status %q with %d targets", r.Status, len(r.Targets))
	}
	sets := 0
	for _, tg := range r.Targets {
		for _, e := range tg.Experiments {
			if e.Stats == nil || e.Stats.Requests == 0 || len(e.History) == 0 {
				t.Errorf("%s: no stats or history", e.File)
			}
			// Read from the real scoring service's /metrics just before
			// loadgen started: idle, or recorded as still busy.
			if st := e.StartState; st == nil || !st.Inflight.Valid() || (st.Inflight != 0 && !st.TimedOut) {
				t.Errorf("%s: start state %+v, want the in-flight count read from /metrics", e.File, st)
			}
			if e.Failed != "" {
				t.Errorf("%s failed: %s", e.File, e.Failed)
			}
			files := []string{"_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv", ".json"}
			if r.Settings.LoadgenHTML {
				files = append(files, ".html")
			}
			ok := true
			for _, suffix := range files {
				if _, err := os.Stat(filepath.Join(out, e.File+suffix)); err != nil {
					t.Errorf("missing %s%s", e.File, suffix)
					ok = false
				}
			}
			if ok {
				sets++
			}
		}
		a := tg.Analysis
		if a == nil || a.Breakpoint == nil || a.Breakpoint.MaxUsers == 0 || a.Rule == "" || a.Exp1 == nil {
			t.Errorf("%s: breaking-point fields missing: %+v", tg.Name, a)
		}
		if e3 := tg.Find(3); e3 == nil || e3.Users < 1 || e3.UsersFrom == "profile" {
			t.Errorf("%s: experiment 3 did not take its users from experiment 2: %+v", tg.Name, e3)
		}
	}
	if sets != 8 {
		t.Errorf("%d complete experiment file sets, want 8", sets)
	}
	for _, f := range []string{"index.html", "summary.md", "load_test.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	assertRebuildIdentical(t, bin, out)
}

// assertRebuildIdentical runs lab report on a finished run's folder and
// checks that the summary, page and charts come out byte for byte the same.
func assertRebuildIdentical(t *testing.T, bin, out string) {
	t.Helper()
	rendered, _ := filepath.Glob(filepath.Join(out, "*.png"))
	rendered = append(rendered, filepath.Join(out, "summary.md"), filepath.Join(out, "index.html"))
	want := map[string][]byte{}
	for _, f := range rendered {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want[f] = b
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := exec.Command(filepath.Join(bin, "lab"), "report", out).CombinedOutput(); err != nil {
		t.Fatalf("lab report: %v\n%s", err, b)
	}
	for f, w := range want {
		got, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("lab report did not rewrite %s", filepath.Base(f))
			continue
		}
		if !bytes.Equal(got, w) {
			t.Errorf("lab report rewrote %s differently (%d vs %d bytes)", filepath.Base(f), len(got), len(w))
		}
	}
}

// TestInterruptKillsChildren stops a running lab by signals and checks
// that every child is gone once it exits and the partial report is there:
// Ctrl-C once and twice, SIGTERM, SIGHUP (a closed terminal), and Ctrl-C
// with stdout and stderr piped into a reader that has gone (a tee killed
// by the same Ctrl-C): writes then fail, they must not kill the lab.
func TestInterruptKillsChildren(t *testing.T) {
	bin := buildBinaries(t)
	tests := []struct {
		name       string
		signals    []os.Signal
		closedPipe bool
	}{
		{"1 Ctrl-C", []os.Signal{os.Interrupt}, false},
		{"2 Ctrl-C", []os.Signal{os.Interrupt, os.Interrupt}, false},
		{"SIGTERM", []os.Signal{syscall.SIGTERM}, false},
		{"SIGHUP", []os.Signal{syscall.SIGHUP}, false},
		{"Ctrl-C with a closed output pipe", []os.Signal{os.Interrupt}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(filepath.Join(bin, "lab"), labArgs(bin, out, freePorts(t, 5))...)
			var buf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &buf, &buf
			if tc.closedPipe {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				r.Close() // the reader is gone before the lab writes anything
				cmd.Stdout, cmd.Stderr = w, w
				defer w.Close()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Wait until the first loadgen child writes its history.
			hist := filepath.Join(out, "response_time_sync_stats_history.csv")
			deadline := time.Now().Add(time.Minute)
			for {
				if _, err := os.Stat(hist); err == nil {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("lab exited early: %v\n%s", err, buf.String())
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("no history file after a minute:\n%s", buf.String())
				}
			}
			for _, sig := range tc.signals {
				_ = cmd.Process.Signal(sig)
			}
			select {
			case err := <-done:
				if err == nil {
					t.Error("interrupted lab exited 0")
				}
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("lab did not exit after the signal:\n%s", buf.String())
			}
			assertNoChildren(t, out, 5)
			r, err := results.Read(filepath.Join(out, "results.json"))
			if err != nil || r.Status != "interrupted" {
				t.Errorf("partial report: %v, status %q", err, statusOf(r))
			}
			if len(tc.signals) > 1 {
				// After the second signal the lab writes results.json
				// alone; lab report renders the rest from it.
				if b, err := exec.Command(filepath.Join(bin, "lab"), "report", out).CombinedOutput(); err != nil {
					t.Errorf("lab report after two signals: %v\n%s", err, b)
				}
				if _, err := os.Stat(filepath.Join(out, "summary.md")); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func statusOf(r *results.Results) string {
	if r == nil {
		return ""
	}
	return r.Status
}

func TestPortTaken(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	fake := filepath.Join(dir, "bin")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 5)
	ports[1] = taken
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "out")
	err = Run(context.Background(), []string{"run", "--profile", "smoke", "--out", out,
		"--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]), "--targets-bin", fake, "--loadgen-bin", fake}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(taken)) || !strings.Contains(err.Error(), "sync scoring") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want a one-line error naming port %d and sync scoring", err, taken)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Error("output folder created although nothing should start")
	}
}

func TestCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    string
	}{
		{"help lists profiles", []string{"run", "--help"}, false, "smoke"},
		{"version", []string{"--version"}, false, "lab dev (commit unknown)"},
		{"report help", []string{"report", "--help"}, false, "results.json"},
		{"report without folder", []string{"report"}, true, ""},
		{"report of a folder without a run", []string{"report", "/nonexistent/run"}, true, ""},
		{"top-level help", []string{"--help"}, false, "Profiles"},
		{"no command", nil, true, "Usage"},
		{"unknown command", []string{"walk"}, true, ""},
		{"bad flag", []string{"run", "--nope"}, true, ""},
		{"bad profile", []string{"run", "--profile", "slow"}, true, ""},
		{"bad experiments", []string{"run", "--experiments", "1,5"}, true, ""},
		{"bad only", []string{"run", "--only", "both", "--targets-bin", "/bin/sh", "--loadgen-bin", "/bin/sh", "--out", "x"}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tc.args, &stdout, &stderr)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.want != "" && !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, stdout.String(), stderr.String())
			}
		})
	}
}

// TestServiceFailsToStart uses a targets stand-in that exits at once: the
// lab must fail naming the service, quote its log, and still write a report.
func TestServiceFailsToStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	targets := filepath.Join(dir, "targets")
	loadgen := filepath.Join(dir, "loadgen")
	if err := os.WriteFile(targets, []byte("#!/bin/sh\necho 'listen: address already in use' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(loadgen, []byte("#!/bin/sh\necho 'Usage: loadgen --csv --html'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 5)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"run", "--profile", "smoke", "--out", out,
		"--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]), "--targets-bin", targets, "--loadgen-bin", loadgen}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "feature store") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("got %v, want an error naming the feature store and quoting its log", err)
	}
	r, rerr := results.Read(filepath.Join(out, "results.json"))
	if rerr != nil || r.Status != "failed" {
		t.Errorf("report: %v, status %q", rerr, statusOf(r))
	}
	assertNoChildren(t, out, 1)
}

// TestUsageExitCode: command-line mistakes exit 2 (their message already
// printed), other errors 1.
func TestUsageExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"walk"}, 2},
		{"bad flag", []string{"run", "--nope"}, 2},
		{"report without folder", []string{"report"}, 2},
		{"bad profile", []string{"run", "--profile", "slow"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Run(context.Background(), tc.args, io.Discard, io.Discard)
			code := 1
			var ee *cli.ExitError
			if errors.As(err, &ee) {
				code = ee.Code
			}
			if err == nil || code != tc.code {
				t.Errorf("err %v (code %d), want code %d", err, code, tc.code)
			}
		})
	}
}

// TestOutputFolder: two labs started in the same second get a folder
// each, and a non-empty --out is refused unless --force.
func TestOutputFolder(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	a, err := newOutDir(parent, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newOutDir(parent, now)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || filepath.Base(a) != "20261130-030000" || filepath.Base(b) != "20261130-030000-2" {
		t.Errorf("same-second folders: %s and %s", a, b)
	}

	used := filepath.Join(parent, "used")
	if err := os.MkdirAll(used, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(used, "response_time_async_stats.csv"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		dir   string
		force bool
		ok    bool
	}{
		{"new folder", filepath.Join(parent, "new"), false, true},
		{"empty folder", a, false, true},
		{"folder of an earlier run", used, false, false},
		{"folder of an earlier run, forced", used, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOutDir(tc.dir, tc.force)
			if (err == nil) != tc.ok {
				t.Errorf("checkOutDir(%s, %v) = %v, want ok %v", tc.dir, tc.force, err, tc.ok)
			}
		})
	}
	err = Run(context.Background(), []string{"run", "--profile", "smoke", "--out", used, "--targets-bin", "/bin/sh", "--loadgen-bin", "/bin/sh"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error(), "\n") {
		t.Errorf("lab run into a used folder: %v, want a one-line refusal", err)
	}
}
