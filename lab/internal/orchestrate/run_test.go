package orchestrate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/internal/testutil"
	"predictlab/lab/internal/proc"
	"predictlab/lab/internal/progress"
	"predictlab/lab/internal/report"
	"predictlab/lab/internal/results"
)

// fakeLab is a lab of the sync target only, over the fake targets and
// loadgen (fake_test.go) configured by the given environments.
func fakeLab(t *testing.T, exps []int, targetsEnv, loadgenEnv []string) *Lab {
	t.Helper()
	cfg := testConfig(t, "smoke")
	cfg.Out = t.TempDir()
	cfg.Only = "sync"
	cfg.Experiments = exps
	ports := testutil.ServicePorts(t, 5)
	cfg.Ports = targetsapi.Ports{SyncModel: ports[0], SyncScoring: ports[1], AsyncModel: ports[2], AsyncScoring: ports[3], Store: ports[4]}
	cfg.TargetsBin = fakeBin(t, "targets", targetsEnv...)
	cfg.LoadgenBin = fakeBin(t, "loadgen", loadgenEnv...)
	if err := cfg.Preflight(); err != nil {
		t.Fatal(err)
	}
	l := New(cfg, zerolog.Nop(), progress.New(io.Discard, false, 0))
	l.write = report.WriteResults // results.json is what these tests read; charts cost seconds under -race
	return l
}

// runLab runs l and returns its results read back from results.json.
func runLab(t *testing.T, l *Lab) (*results.Results, error) {
	t.Helper()
	_, err := l.Run(context.Background(), nil)
	for name, c := range l.children {
		if proc.Alive(c.Pid()) {
			t.Errorf("%s (pid %d) still running after Run", name, c.Pid())
		}
	}
	back, rerr := results.Read(filepath.Join(l.cfg.Out, results.FileName))
	if rerr != nil {
		t.Fatalf("no results.json after Run (%v): %v", err, rerr)
	}
	return back, err
}

func TestRunComplete(t *testing.T) {
	t.Parallel()
	l := fakeLab(t, []int{1, 2}, nil, nil)
	l.write = report.Write
	r, err := runLab(t, l)
	if err != nil || r.Status != "complete" {
		t.Fatalf("status %q, err %v", r.Status, err)
	}
	for _, f := range []string{"summary.md", "index.html", "load_test.png"} {
		if _, err := os.Stat(filepath.Join(l.cfg.Out, f)); err != nil {
			t.Errorf("report: %v", err)
		}
	}
	for _, e := range r.Targets[0].Experiments {
		if st := e.StartState; st == nil || st.Inflight != 0 || st.TimedOut || st.ProbeMS != nil {
			t.Errorf("experiment %d start state = %+v, want 0 in flight read from /metrics", e.Number, st)
		}
		if e.Failed != "" {
			t.Errorf("experiment %d failed: %s", e.Number, e.Failed)
		}
	}
}

// TestWaitsForIdleTarget: the lab waits until the scoring service has
// nothing in flight before an experiment, and records it; a target still
// busy when the wait's bound runs out is started anyway, and that is
// recorded too.
func TestWaitsForIdleTarget(t *testing.T) {
	t.Parallel()
	t.Run("becomes idle", func(t *testing.T) {
		t.Parallel()
		// 12 reads busy, 100 ms apart at least: over a second of waiting.
		r, err := runLab(t, fakeLab(t, []int{1}, []string{"FAKE_BUSY_READS=12"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		st := r.Targets[0].Experiments[0].StartState
		if st == nil || st.Inflight != 0 || st.WaitedMS < 1000 || st.TimedOut {
			t.Errorf("start state = %+v, want 0 in flight after waiting ≥ 1 s", st)
		}
	})
	t.Run("stays busy", func(t *testing.T) {
		t.Parallel()
		l := fakeLab(t, []int{1}, []string{"FAKE_BUSY_READS=1000000", "FAKE_INFLIGHT=7"}, nil)
		l.idleWait = 300 * time.Millisecond
		r, err := runLab(t, l)
		if err != nil {
			t.Fatal(err)
		}
		st := r.Targets[0].Experiments[0].StartState
		if st == nil || st.Inflight != 7 || !st.TimedOut {
			t.Errorf("start state = %+v, want 7 in flight and timed out", st)
		}
	})
}

// TestNoResultIsNotComplete: an experiment with 0 requests or mostly
// failures is marked failed, and the run is not complete.
func TestNoResultIsNotComplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ result, want string }{
		{"zero", "0 requests"},
		{"fail", "100 of 100 requests failed (100%)"},
	} {
		t.Run(tc.result, func(t *testing.T) {
			t.Parallel()
			r, err := runLab(t, fakeLab(t, []int{1, 2, 3}, nil, []string{"FAKE_RESULT=" + tc.result}))
			if err == nil || r.Status != "failed" || !strings.Contains(r.Error, tc.want) {
				t.Errorf("status %q (%s), err %v; want failed naming %q", r.Status, r.Error, err, tc.want)
			}
			tg := r.Targets[0]
			for _, e := range tg.Experiments {
				if e.Failed != tc.want {
					t.Errorf("experiment %d: failed = %q, want %q", e.Number, e.Failed, tc.want)
				}
			}
			if e3 := tg.Find(3); e3 == nil || e3.UsersFrom != "profile (experiment 2 failed)" {
				t.Errorf("experiment 3 took its users from a failed experiment 2: %+v", e3)
			}
			if tg.Analysis == nil || tg.Analysis.Breakpoint != nil {
				t.Errorf("a breaking point from failed experiments: %+v", tg.Analysis)
			}
		})
	}
}

// TestServiceExitStopsTheRun: a service that exits mid-experiment ends the
// experiment at once (loadgen is stopped, not left to finish) and the
// status says which service exited and when.
func TestServiceExitStopsTheRun(t *testing.T) {
	t.Parallel()
	l := fakeLab(t, []int{1, 2}, []string{"FAKE_EXIT_SERVICE=sync model", "FAKE_EXIT_AFTER_READS=3"}, []string{"FAKE_RUN_FOR=1h"})
	r, err := runLab(t, l)
	if err == nil || r.Status != "failed" || !strings.Contains(r.Error, "sync model exited at ") || !strings.Contains(r.Error, "exit status 3") {
		t.Fatalf("status %q (%s), err %v; want failed naming the sync model's exit", r.Status, r.Error, err)
	}
	e := r.Targets[0].Experiments[0]
	if !strings.Contains(e.Failed, "sync model exited") {
		t.Errorf("experiment 1 failed = %q", e.Failed)
	}
	if _, err := os.Stat(filepath.Join(l.cfg.Out, e.File+".stopped")); err != nil {
		t.Errorf("loadgen was not stopped when the service exited: %v", err)
	}
	if len(r.Targets[0].Experiments) != 1 {
		t.Errorf("the run went on after the service exited: %d experiments", len(r.Targets[0].Experiments))
	}
}

// TestPanicWritesPartialReport: a panic in the lab still stops every child
// and writes results.json with status failed.
func TestPanicWritesPartialReport(t *testing.T) {
	t.Parallel()
	l := fakeLab(t, []int{1, 2}, nil, nil)
	l.hook = func(point string) {
		if point == "experiment sync 2" {
			panic("injected fault")
		}
	}
	r, err := runLab(t, l)
	if err == nil || !strings.Contains(err.Error(), "injected fault") {
		t.Errorf("Run returned %v, want the panic as an error", err)
	}
	if r.Status != "failed" || !strings.Contains(r.Error, "panic: injected fault") {
		t.Errorf("status %q (%s)", r.Status, r.Error)
	}
	if e := r.Targets[0].Find(1); e == nil || e.Stats == nil || e.Stats.Requests != 100 {
		t.Errorf("experiment 1's results lost: %+v", e)
	}
	if len(l.children) != 3 {
		t.Errorf("%d services started, want 3", len(l.children))
	}
}

// TestExternalWithoutMetrics: an external target with no /metrics is
// probed with predict requests before each experiment: before experiment
// 2 the lab waits until a probe answers within twice experiment 1's median
// (the fake loadgen reports 90 ms), and records the probe.
func TestExternalWithoutMetrics(t *testing.T) {
	t.Parallel()
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/healthcheck":
			fmt.Fprint(w, `{"status":"OK"}`)
		case "/api/v1/ml/sync/predict":
			// The first probe is experiment 1's; the next three find the
			// target still slow (400 ms > 2 × 90 ms).
			if n := probes.Add(1); n >= 2 && n <= 4 {
				time.Sleep(400 * time.Millisecond)
			}
			fmt.Fprint(w, `{"detail":1.0}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, "smoke")
	cfg.Out, cfg.Only, cfg.Experiments = t.TempDir(), "sync", []int{1, 2}
	cfg.External, cfg.SyncURL, cfg.AsyncURL = true, srv.URL, srv.URL
	cfg.LoadgenBin = fakeBin(t, "loadgen")
	l := New(cfg, zerolog.Nop(), progress.New(io.Discard, false, 0))
	l.write = report.WriteResults
	r, err := runLab(t, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Targets[0].Experiments {
		st := e.StartState
		if st == nil || st.ProbeMS == nil || st.Inflight.Valid() || st.TimedOut {
			t.Fatalf("experiment %d start state = %+v, want a probe and no in-flight count", e.Number, st)
		}
		if e.Number == 2 && (st.WaitedMS < 1000 || *st.ProbeMS > 180) {
			t.Errorf("experiment 2 start state = %+v (probe %.1f ms), want a wait of over a second until a probe answered within 180 ms", st, *st.ProbeMS)
		}
	}
	if n := probes.Load(); n < 5 {
		t.Errorf("%d probe requests, want at least 5", n)
	}
}
