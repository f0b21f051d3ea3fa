package worker

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/locusttest"
	"predictlab/loadgen/internal/users"
)

// runWorkers starts n workers (in this process) against the master on port
// and returns them, their logs, and a channel that gets each Run's result.
func runWorkers(t *testing.T, ctx context.Context, n, port int) ([]*Worker, []*locusttest.Buffer, chan error) {
	t.Helper()
	ws := make([]*Worker, n)
	logs := make([]*locusttest.Buffer, n)
	done := make(chan error, n)
	for i := range ws {
		logs[i] = &locusttest.Buffer{}
		ws[i] = New(Options{
			MasterAddr: locustrpc.Addr("127.0.0.1", port), Classes: users.Builtin(),
			Log:  locustlog.New(logs[i], "test", zerolog.InfoLevel, nil),
			Seed: uint64(i),
		})
		go func(w *Worker) { done <- w.Run(ctx) }(ws[i])
	}
	return ws, logs, done
}

// waitWorkers waits up to d for n Run results, failing on an error.
func waitWorkers(t *testing.T, done chan error, n int, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for range n {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker Run: %v", err)
			}
		case <-timeout:
			t.Fatalf("workers still running %s after the master exited", d)
		}
	}
}

var forbidden = []string{"old (pre 2.0)", "Unknown message type", "Discarded report", "failed to send heartbeat", "Traceback"}

// checkCounts checks the master's final table against what the workers
// reported and what the target saw.
func checkCounts(t *testing.T, out string, sent int64, tg *locusttest.Target, path string) {
	t.Helper()
	rows, err := locusttest.FinalTable(out)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	agg, ep := rows["Aggregated"], rows["POST "+path]
	if agg.Requests != sent || ep.Requests != sent {
		t.Errorf("master counted %d (%s: %d), workers sent %d", agg.Requests, path, ep.Requests, sent)
	}
	if agg.Fails != 0 {
		t.Errorf("master counted %d failures", agg.Fails)
	}
	total, onPath := tg.Count(path)
	if onPath != total || total < sent || total-sent > 100 {
		t.Errorf("target saw %d requests (%d on %s), master %d: want between master and master+100", total, onPath, path, sent)
	}
}

// The acceptance test of issue 14 §1 with the workers in this process: a
// real Locust 2.12.1 master, 2 loadgen workers, 100 users for 20 s.
func TestRealMaster(t *testing.T) {
	locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 10*time.Millisecond)
	port := locusttest.FreePort(t)
	dir := t.TempDir()
	m := locusttest.StartMaster(t, port, "--headless", "--expect-workers", "2", "--expect-workers-max-wait", "30",
		"-u", "100", "-r", "100", "-t", "20s", "--csv", dir+"/m", "--host", tg.URL, "ApiSyncUser")
	ctx := locusttest.WithTimeout(t, 90*time.Second)
	ws, logs, done := runWorkers(t, ctx, 2, port)

	if code := m.Wait(t, 60*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.Out)
	}
	waitWorkers(t, done, 2, 5*time.Second)
	out := m.Out.String()
	var sent int64
	for i, w := range ws {
		n, f, k := w.Totals()
		sent += n
		lg := logs[i].String()
		if f != 0 || k < 5 {
			t.Errorf("worker %d: %d failures in %d reports", i, f, k)
		}
		if !strings.Contains(lg, `Spawned {"ApiAsyncUser": 0, "ApiSyncUser": 50, "ApiUser": 0} (50 total users)`) {
			t.Errorf("worker %d did not log a spawn of 50 ApiSyncUser:\n%s", i, lg)
		}
		if want := fmt.Sprintf("sent %d requests, 0 failures in %d reports", n, k); !strings.Contains(lg, want) {
			t.Errorf("worker %d log lacks %q:\n%s", i, want, lg)
		}
		if !regexp.MustCompile(`Worker ` + regexp.QuoteMeta(w.ID()) + ` \(index [01]\) reported as ready`).MatchString(out) {
			t.Errorf("master did not register %s", w.ID())
		}
	}
	// The master logs the workers' user_classes_count, which holds every
	// class a worker knows (as a Python worker's does): benchmark.py's three.
	if !strings.Contains(out, `All users spawned: {"ApiAsyncUser": 0, "ApiSyncUser": 100, "ApiUser": 0} (100 total users)`) {
		t.Errorf("master output lacks the 100-user spawn:\n%s", out)
	}
	for _, f := range forbidden {
		if strings.Contains(out, f) {
			t.Errorf("master output has %q:\n%s", f, out)
		}
	}
	checkCounts(t, out, sent, tg, "/api/v1/ml/sync/predict")
	if last := tg.Last(); last.After(m.Exited.Add(time.Second)) {
		t.Errorf("target got a request %s after the master exited", last.Sub(m.Exited))
	}
	t.Logf("workers sent %d requests; master's final table:\n%s", sent, tail(out, 12))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
