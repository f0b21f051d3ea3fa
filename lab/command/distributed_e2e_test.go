package command

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"predictlab/lab/internal/results"
)

// workerSent is the totals line a loadgen worker logs at exit.
var workerSent = regexp.MustCompile(`sent (\d+) requests, (\d+) failures in \d+ reports`)

// TestSmokeDistributed runs a smoke lab of one target and two experiments
// with --loadgen-workers 2: each experiment is a loadgen master and two
// local workers against the real services. The report must be complete,
// say it is one machine's figures, and the request counts must add up:
// the workers' logged totals, the master's _stats.csv, results.json and
// (within the users in flight at the stop) the scoring service's count.
func TestSmokeDistributed(t *testing.T) {
	bin := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"),
		labArgs(bin, out, freePorts(t, 5), "--only", "sync", "--experiments", "1,2", "--loadgen-workers", "2")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("lab output:\n%s%s", stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("lab run: %v", err)
	}
	assertNoChildren(t, out, 3+2*3)

	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "complete" || len(r.Targets) != 1 || r.Settings.LoadgenWorkers != 2 {
		t.Fatalf("status %q, %d targets, loadgen_workers %d; want complete, 1, 2", r.Status, len(r.Targets), r.Settings.LoadgenWorkers)
	}
	exps := r.Targets[0].Experiments
	if len(exps) != 2 {
		t.Fatalf("%d experiments, want 2", len(exps))
	}
	for _, e := range exps {
		if e.Failed != "" || e.Stats == nil || e.Stats.Requests == 0 || len(e.History) == 0 {
			t.Errorf("%s: failed %q, stats %+v, %d history rows", e.File, e.Failed, e.Stats, len(e.History))
			continue
		}
		for _, suffix := range []string{"_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv", ".json", ".html"} {
			if _, err := os.Stat(filepath.Join(out, e.File+suffix)); err != nil {
				t.Errorf("missing %s%s", e.File, suffix)
			}
		}
		if len(e.Workers) != 2 {
			t.Errorf("%s: %d workers recorded, want 2", e.File, len(e.Workers))
			continue
		}
		var sent, failed int64
		for i, w := range e.Workers {
			if w.ExitCode != 0 {
				t.Errorf("%s worker %d exited %d", e.File, i+1, w.ExitCode)
			}
			b, err := os.ReadFile(filepath.Join(out, w.Log))
			if err != nil {
				t.Error(err)
				continue
			}
			m := workerSent.FindSubmatch(b)
			if m == nil {
				t.Errorf("%s: no totals line in:\n%s", w.Log, b)
				continue
			}
			n, _ := strconv.ParseInt(string(m[1]), 10, 64)
			f, _ := strconv.ParseInt(string(m[2]), 10, 64)
			sent, failed = sent+n, failed+f
		}
		master := aggregatedCount(t, filepath.Join(out, e.File+"_stats.csv"))
		if master != sent || e.Stats.Requests != sent || e.Stats.Failures != failed {
			t.Errorf("%s: workers sent %d (%d failures); master's _stats.csv %d, results.json %d (%d failures)",
				e.File, sent, failed, master, e.Stats.Requests, e.Stats.Failures)
		}
		// The server also counts requests the users had in flight when
		// the run stopped; the client does not count those it abandoned.
		if e.ServerRequests.Valid() {
			if d := float64(e.ServerRequests) - float64(sent); d < 0 || d > float64(e.Users) {
				t.Errorf("%s: the scoring service counted %v requests, the workers sent %d", e.File, float64(e.ServerRequests), sent)
			}
		}
		t.Logf("%s: %d users, workers sent %d, master counted %d, scoring service %v", e.File, e.Users, sent, master, float64(e.ServerRequests))
	}
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("so these are one machine's figures")) {
		t.Error("summary.md does not say the figures are one machine's")
	}
	assertRebuildIdentical(t, bin, out)
}

// TestInterruptDistributed: Ctrl-C while a master and its workers run
// stops every one of them, and the partial report is written.
func TestInterruptDistributed(t *testing.T) {
	bin := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(filepath.Join(bin, "lab"),
		labArgs(bin, out, freePorts(t, 5), "--only", "async", "--experiments", "2", "--loadgen-workers", "2")...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until the master writes its history: both workers are in.
	hist := filepath.Join(out, "load_test_async_stats_history.csv")
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
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err == nil {
			t.Error("interrupted lab exited 0")
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("lab did not exit after the signal:\n%s", buf.String())
	}
	assertNoChildren(t, out, 3+3)
	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil || r.Status != "interrupted" {
		t.Errorf("partial report: %v, status %q", err, statusOf(r))
	}
}

// aggregatedCount is the Request Count of a _stats.csv's Aggregated row.
func aggregatedCount(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("read %s: %v", path, err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "Request Count" {
			col = i
		}
	}
	for _, row := range rows[1:] {
		if col >= 0 && len(row) > col && row[1] == "Aggregated" {
			n, _ := strconv.ParseInt(row[col], 10, 64)
			return n
		}
	}
	t.Fatalf("%s has no Aggregated row", path)
	return 0
}
