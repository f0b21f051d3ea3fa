package report

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
	"predictlab/lab/internal/analysis"
	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/envinfo"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/results"
	"predictlab/lab/internal/scrape"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// history simulates a closed-loop ramp against a server of the given
// capacity: users grow by rate per second up to maxUsers.
func history(t0 int64, maxUsers, rate, seconds int, capacity, baseMS float64) []results.HistPoint {
	var out []results.HistPoint
	var total, sumLat, queue float64
	users := 0
	for s := 0; s <= seconds; s++ {
		// Closed loop: a user still waiting for an answer sends nothing.
		offered := math.Max(0, float64(users)-queue)
		done := math.Min(offered+queue, capacity)
		queue += offered - done
		lat := baseMS + 1000*queue/capacity
		total += done
		sumLat += done * lat
		p := results.HistPoint{T: t0 + int64(s), Users: users, Total: int64(total), RPS: jsonnum.Float(done),
			P50: jsonnum.Float(lat), P95: jsonnum.Float(lat * 1.3), Current: true}
		if total > 0 {
			p.TotalAvgMS = sumLat / total
		}
		out = append(out, p)
		users = min(maxUsers, users+rate)
	}
	return out
}

// summaryOf is the whole-run statistics a history implies, so the
// fixture's totals agree with its history: requests and average from the
// last row, req/s over the run, the median as the median of the rows'
// latencies, the rest scaled from it. shift adds latency (the intended
// send time's view of the same run).
func summaryOf(h []results.HistPoint, shift float64) *results.Summary {
	last := h[len(h)-1]
	var lats []float64
	for _, p := range h {
		if p.Total > 0 && p.P50.Valid() {
			lats = append(lats, float64(p.P50)+shift)
		}
	}
	sort.Float64s(lats)
	med := lats[len(lats)/2]
	dur := float64(last.T - h[0].T)
	return &results.Summary{Requests: last.Total, AvgMS: last.TotalAvgMS + shift, MinMS: lats[0], MaxMS: lats[len(lats)-1] * 1.2, MedianMS: med,
		P95MS: jsonnum.Float(lats[len(lats)*95/100]), P99MS: jsonnum.Float(lats[len(lats)-1]), RPS: float64(last.Total) / dur}
}

// fixture is a complete quick-profile run with made-up but plausible
// numbers, each experiment's totals computed from its own history: sync
// saturates at 88 req/s, async (capacity 400 req/s) does not within the
// 300 users it is offered.
func fixture() *results.Results { return fixtureFor("quick") }

func fixtureFor(name string) *results.Results {
	p, _ := profile.Lookup(name)
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	r := &results.Results{Profile: p, Status: "complete", Started: t0, Ended: t0.Add(170 * time.Second),
		Env: envinfo.Env{CPUModel: "Test CPU", CPUs: 2, OS: "Test OS", Kernel: "6.0", Arch: "linux/amd64", GoVersion: "go1.26", GitCommit: "abc123", LabBuild: "test"},
		Settings: results.Settings{Out: "output/x", Bind: "127.0.0.1", TargetsBin: "bin/targets", LoadgenBin: "bin/loadgen", LoadgenHTML: true, LoadgenFullHistory: true,
			Experiments: []int{1, 2, 3, 4}, Services: []results.Command{{Name: "feature store", Args: []string{"bin/targets", "featurestore", "--addr", "127.0.0.1:6379"}}}}}
	// exp3 is experiment 3's user count and where it came from, as the lab chooses it:
	// the breaking point when experiment 2 reached one, else the largest count tested.
	mk := func(name string, tgt profile.Target, capacity, base float64, start int64, exp3 int, exp3From string) *results.Target {
		t := &results.Target{Name: name, URL: "http://127.0.0.1:x", Settings: tgt}
		h1, h2 := history(start, 1, 1, 10, capacity, base), history(start+20, 300, 10, 30, capacity, base)
		h3, h4 := history(start+60, exp3, exp3, 30, capacity, base), history(start+100, 500, 50, 10, capacity, base)
		e1 := &results.Experiment{Number: 1, Name: "response_time", File: "response_time_" + name, Users: 1, SpawnRate: 1, RunTime: 10 * time.Second, UsersFrom: "profile",
			Command: []string{"bin/loadgen", "-u", "1"}, Stats: summaryOf(h1, 0), History: h1}
		e2 := &results.Experiment{Number: 2, Name: "load_test", File: "load_test_" + name, Users: 300, SpawnRate: 10, RunTime: 30 * time.Second, UsersFrom: "profile",
			Command: []string{"bin/loadgen", "-u", "300"}, Stats: summaryOf(h2, 0), History: h2,
			SelfCheck: &loadgenjson.SelfCheck{Valid: true, Timeline: []loadgenjson.Point{{Timestamp: start + 25, Users: 50, CPUPercent: 20}}}}
		e3 := &results.Experiment{Number: 3, Name: "max_performance", File: "max_performance_" + name, Users: exp3, SpawnRate: float64(exp3), RunTime: 30 * time.Second, UsersFrom: exp3From,
			Command: []string{"bin/loadgen", "-u", fmt.Sprint(exp3)}, Stats: summaryOf(h3, 0), History: h3}
		e4 := &results.Experiment{Number: 4, Name: "stress_test", File: "stress_test_" + name, Users: 500, SpawnRate: 50, RunTime: 10 * time.Second, UsersFrom: "profile",
			Command: []string{"bin/loadgen", "-u", "500"}, Stats: summaryOf(h4, 0), Intended: summaryOf(h4, 300), History: h4}
		var pts []scrape.Point
		for i := 0; i < 30; i++ {
			pt := scrape.Point{Time: float64(start + 60 + int64(i)), Inflight: 16, WorkersBusy: jsonnum.NaN(), QueueLength: jsonnum.NaN(), LoopBusy: jsonnum.NaN(), LoopLagMS: jsonnum.NaN()}
			if tgt.Style == "blocking" {
				pt.WorkersBusy, pt.QueueLength = 8, jsonnum.Float(i)
				pt.WorkersUtil, pt.ServiceMS, pt.QueueWaitMS = 1, 91, jsonnum.Float(i*10)
				pt.ServerMS, pt.RPS = 91+pt.QueueWaitMS, 88
			} else {
				pt.LoopBusy, pt.LoopLagMS = 0.25, 0.5
			}
			pts = append(pts, pt)
		}
		e3.Internals = map[string][]scrape.Point{"scoring": pts}
		e3.LoopBusySeconds, e3.ServerRequests = jsonnum.NaN(), jsonnum.NaN()
		if tgt.Style != "blocking" {
			e3.LoopBusySeconds, e3.ServerRequests = 0.5, 2600
		}
		t.Experiments = []*results.Experiment{e1, e2, e3, e4}
		for _, e := range t.Experiments {
			e.LoadAvg = 1.2
		}
		if name == "async" {
			e3.LoadAvg = 3.5 // other work on the machine
		}
		return t
	}
	r.Targets = []*results.Target{mk("sync", p.Sync, 88, 91, 1800000000, 90, "breaking point"),
		mk("async", p.Async, 400, 48, 1800001000, 300, "largest count tested (breaking point not reached)")}
	return r
}

func TestSummaryGolden(t *testing.T) {
	tests := []struct{ profile, golden string }{
		{"quick", "summary.md"},
		{"seed", "summary_seed.md"}, // with the Python original's numbers beside ours
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			r := fixtureFor(tc.profile)
			analysis.Analyze(r)
			got, err := Markdown(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("summary differs from %s (check, then go test ./lab/internal/report -update):\n%s", golden, got)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	r := fixture()
	analysis.Analyze(r)
	s, a := r.Targets[0].Analysis, r.Targets[1].Analysis
	if s.Breakpoint == nil || !s.Breakpoint.Reached || s.Breakpoint.Users < 79 || s.Breakpoint.Users > 97 {
		t.Errorf("sync breaking point = %+v, want reached within ±10%% of 88", s.Breakpoint)
	}
	if a.Breakpoint == nil || a.Breakpoint.Reached || a.Breakpoint.Users != 300 {
		t.Errorf("async breaking point = %+v, want not reached (300)", a.Breakpoint)
	}
	if e1 := r.Targets[0].Find(1); !s.Prediction.Bound || math.Abs(s.Prediction.Users-8/(e1.Stats.AvgMS/1000)) > 0.01 {
		t.Errorf("sync prediction = %+v, want 8 / experiment 1's mean", s.Prediction)
	}
	if a.Prediction.Bound {
		t.Errorf("async prediction = %+v, want not CPU-bound", a.Prediction)
	}
	if a.MeasuredCPUPrediction == nil || math.Abs(a.MeasuredLoopCPUMS-0.5/2600*1000) > 1e-6 {
		t.Errorf("measured loop CPU = %v, %+v", a.MeasuredLoopCPUMS, a.MeasuredCPUPrediction)
	}
	if s.Exp1 == nil || s.Exp1.FloorMS != 90 || math.Abs(a.Exp1.FloorMS-47.071) > 0.001 {
		t.Errorf("floors: sync %+v async %+v", s.Exp1, a.Exp1)
	}
	if e4 := r.Targets[0].Find(4); s.Stress == nil || s.Stress.IntendedMedianMS != e4.Intended.MedianMS || s.Stress.ActualMedianMS != e4.Stats.MedianMS {
		t.Errorf("stress = %+v", s.Stress)
	}
	// Client side at the breaking point and in experiment 3, then server side.
	if len(s.Little) != 3 || !strings.HasPrefix(s.Little[2].Where, "server side, experiment 3") ||
		math.Abs(s.Little[2].Predicted-88*(91+145)/1000.0) > 1e-9 || s.Little[2].Users != 16 {
		t.Errorf("little = %+v", s.Little)
	}
}

func TestConclusionFollowsNumbers(t *testing.T) {
	t.Parallel()
	r := fixture()
	analysis.Analyze(r)
	c := strings.Join(Conclusion(r), " ")
	for _, want := range []string{"Sync kept up with", "Async kept up through all 300 users", "self-check found no second"} {
		if !strings.Contains(c, want) {
			t.Errorf("conclusion lacks %q:\n%s", want, c)
		}
	}
	// Flip the numbers: the text must follow.
	r.Targets[1].Experiments[1].SelfCheck = &loadgenjson.SelfCheck{Valid: false, Timeline: []loadgenjson.Point{{Timestamp: 1, CPUPercent: 99}}}
	analysis.Analyze(r)
	if c := strings.Join(Conclusion(r), " "); !strings.Contains(c, "judged 1 experiment run(s) not valid and flagged 1 second(s)") {
		t.Errorf("conclusion ignores the generator flag:\n%s", c)
	}
	// A valid run with one stalled second: flagged, but the runs stay valid.
	r.Targets[1].Experiments[1].SelfCheck = &loadgenjson.SelfCheck{Valid: true, Timeline: []loadgenjson.Point{
		{Timestamp: 1, ScheduledRequests: 200, LateRequests: 5, MaxLagMS: 25},
		{Timestamp: 2, ScheduledRequests: 200, LateRequests: 1, MaxLagMS: 11}}}
	analysis.Analyze(r)
	if c := strings.Join(Conclusion(r), " "); !strings.Contains(c, "judged every run valid") || !strings.Contains(c, "1 single second(s) were flagged") {
		t.Errorf("conclusion on a valid run with one late second:\n%s", c)
	}
}

// A start lag (users' first requests late when many spawn at once) is shown
// per experiment but leaves the verdict valid.
func TestMarkdownShowsStartLag(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Targets[0].Experiments[0].SelfCheck = &loadgenjson.SelfCheck{Valid: true, MaxStartLagMS: 21.5,
		Timeline: []loadgenjson.Point{{Timestamp: 1, Users: 500, MaxLagMS: 3, MaxStartLagMS: 21.5}}}
	analysis.Analyze(r)
	md, err := Markdown(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("  - experiment %d: valid measurement (generator CPU max 0.0%%, schedule lag max 0.0 ms, first requests up to 21.5 ms after their user's spawn)", r.Targets[0].Experiments[0].Number)
	if !strings.Contains(md, want) {
		t.Errorf("summary lacks %q", want)
	}
	if !r.Targets[0].Analysis.GeneratorValid || len(r.Targets[0].Analysis.GeneratorFlags) != 0 {
		t.Errorf("a start lag alone changed the verdict: %+v", r.Targets[0].Analysis)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fixture()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.json", "summary.md", "index.html", "load_test.png", "max_performance.png", "stress_test.png", "load_test_throughput.png", "max_performance_internals.png"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".png") && !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", f)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !bytes.Contains(page, []byte("data:image/png;base64,")) || bytes.Contains(page, []byte("src=\"http")) {
		t.Error("index.html is not self-contained")
	}
	if !bytes.Contains(page, []byte(`<a href="load_test_sync.html">2 load_test</a>`)) {
		t.Error("index.html does not link loadgen's report of each run")
	}
	// Every chart says what to look for.
	if n, want := bytes.Count(page, []byte(`<p class="caption">What to look for:`)), bytes.Count(page, []byte("<figure>")); n != want || n == 0 {
		t.Errorf("%d captions for %d charts", n, want)
	}
	back, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if back.Targets[0].Analysis.Breakpoint.Users != r.Targets[0].Analysis.Breakpoint.Users {
		t.Error("results.json does not round-trip the breaking point")
	}
}

// writeLoadgenFiles writes each experiment's stats and history as loadgen
// would and reads them back into r, as the orchestrator does: what
// results.json holds is then exactly what the CSVs say.
func writeLoadgenFiles(t *testing.T, dir string, r *results.Results) {
	t.Helper()
	for _, tg := range r.Targets {
		for _, e := range tg.Experiments {
			prefix := filepath.Join(dir, e.File)
			s := e.Stats
			row := locustcsv.StatsRow{Name: locustcsv.AggregatedName, RequestCount: s.Requests, FailureCount: s.Failures,
				Median: s.MedianMS, Average: s.AvgMS, Min: s.MinMS, Max: s.MaxMS, RequestsPerSec: s.RPS}
			row.Percentiles[5], row.Percentiles[7] = float64(s.P95MS), float64(s.P99MS)
			var hist []locustcsv.HistoryRow
			for _, h := range e.History {
				hr := locustcsv.HistoryRow{Timestamp: h.T, UserCount: h.Users, Name: locustcsv.AggregatedName,
					RequestsPerSec: float64(h.RPS), TotalRequestCount: h.Total, TotalFailureCount: h.Failures, TotalAverage: h.TotalAvgMS}
				hr.Percentiles[0], hr.Percentiles[5] = float64(h.P50), float64(h.P95)
				hist = append(hist, hr)
			}
			for _, f := range []struct {
				suffix string
				write  func(*os.File) error
			}{
				{"_stats.csv", func(f *os.File) error { return locustcsv.WriteStats(f, []locustcsv.StatsRow{row}) }},
				{"_stats_history.csv", func(f *os.File) error { return locustcsv.WriteHistory(f, hist) }},
			} {
				fh, err := os.Create(prefix + f.suffix)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.write(fh); err != nil {
					t.Fatal(err)
				}
				fh.Close()
			}
			e.Intended = nil
			if err := results.ReadFiles(prefix, e, true); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRebuildIsByteIdentical writes a run's report, then rebuilds it from
// the folder alone (lab report DIR): every rendered file is the same, byte
// for byte.
func TestRebuildIsByteIdentical(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fixtureFor("seed")
	// Experiments 1 and 2 of sync only: two charts, since rendering them
	// is most of this test's time (under -race, most of a minute each).
	r.Targets = r.Targets[:1]
	r.Targets[0].Experiments = r.Targets[0].Experiments[:2]
	r.Started = time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.FixedZone("CET", 3600))
	r.Ended = r.Started.Add(170*time.Second + 400*time.Millisecond)
	writeLoadgenFiles(t, dir, r)
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before[filepath.Base(f)] = b
		if strings.HasSuffix(f, ".png") || strings.HasSuffix(f, ".md") || strings.HasSuffix(f, ".html") {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := Rebuild(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range before {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("rebuild did not write %s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("rebuilt %s differs from the run's own (%d vs %d bytes)", name, len(got), len(want))
		}
	}
	if _, ok := before["index.html"]; !ok {
		t.Error("the run wrote no index.html")
	}
}

func TestRebuildErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Rebuild(dir); err == nil || !strings.Contains(err.Error(), "read results") {
		t.Errorf("empty folder: got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Rebuild(dir); err == nil {
		t.Error("a broken results.json was accepted")
	}
}

// TestFailedExperimentIsNoResult: an experiment that mostly failed is
// named as failed, and neither a breaking point nor a conclusion comes
// from it.
func TestFailedExperimentIsNoResult(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Status = "failed"
	e2 := r.Targets[0].Find(2)
	for i := range e2.History {
		e2.History[i].Failures = e2.History[i].Total // fast 502s from a dead model
	}
	e2.Stats.Failures = e2.Stats.Requests
	e2.Failed = analysis.Failure(e2)
	analysis.Analyze(r)
	if bp := r.Targets[0].Analysis.Breakpoint; bp != nil {
		t.Errorf("breaking point from a failed experiment: %+v", bp)
	}
	c := strings.Join(Conclusion(r), " ")
	want := fmt.Sprintf("Experiment 2 load_test of sync failed (%d of %d requests failed (100%%))", e2.Stats.Requests, e2.Stats.Requests)
	if !strings.Contains(c, want) || strings.Contains(c, "Sync kept up") {
		t.Errorf("conclusion:\n%s", c)
	}
	md, err := Markdown(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "| sync | — (experiment 2 failed) |") || !strings.Contains(md, "Status: **failed**") {
		t.Errorf("summary does not show the failure:\n%s", md)
	}
}

// TestStartStateNotes: a wait over a second, or a start on a busy target,
// is mentioned; a short wait is not.
func TestStartStateNotes(t *testing.T) {
	t.Parallel()
	probe := 180.0
	tests := []struct {
		name  string
		state *results.StartState
		want  string
	}{
		{"idle at once", &results.StartState{Inflight: 0, WaitedMS: 3}, ""},
		{"short wait", &results.StartState{Inflight: 0, WaitedMS: 900}, ""},
		{"long wait", &results.StartState{Inflight: 0, WaitedMS: 3400}, "sync experiment 3 waited 3.4s for the scoring service to finish the requests left in flight before it."},
		{"still busy", &results.StartState{Inflight: 12, WaitedMS: 30000, TimedOut: true}, "sync experiment 3 started after 30s with 12 request(s) still in flight"},
		{"probed", &results.StartState{Inflight: jsonnum.NaN(), WaitedMS: 2100, ProbeMS: &probe}, "sync experiment 3 waited 2.1s until a probe request answered in time (180 ms)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			r.Targets[0].Find(3).StartState = tc.state
			analysis.Analyze(r)
			md, err := Markdown(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && strings.Contains(md, "sync experiment 3 ") {
				t.Errorf("a short wait is mentioned:\n%s", md)
			}
			if tc.want != "" && !strings.Contains(md, tc.want) {
				t.Errorf("summary lacks %q", tc.want)
			}
		})
	}
}

func TestInternalsWithoutMetricsIsOneLine(t *testing.T) {
	t.Parallel()
	r := fixture()
	for _, tg := range r.Targets {
		for _, e := range tg.Experiments {
			e.Internals = nil
		}
	}
	analysis.Analyze(r)
	md, err := Markdown(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "## Server internals\n\nNone: the services exposed no predictlab metrics on /metrics"
	if !strings.Contains(md, want) || strings.Contains(md, "| target | experiment | mean workers busy") {
		t.Errorf("summary should say in one line that there are no internals:\n%s", md)
	}
}

// TestSaturatedIsNotKeptUp: a target whose throughput never broke but
// whose latency reached half the pacing interval is not "kept up".
func TestSaturatedIsNotKeptUp(t *testing.T) {
	t.Parallel()
	r := fixture()
	analysis.Analyze(r)
	var a *results.Analysis
	for _, tg := range r.Targets {
		if tg.Name == "async" {
			a = tg.Analysis
		}
	}
	if a == nil || a.Breakpoint == nil || a.Breakpoint.Reached {
		t.Fatal("fixture: async should not break")
	}
	a.Saturation = &results.Saturation{Users: 250, LatencyMS: 554, LimitMS: 500}
	text := strings.Join(Conclusion(r), "\n")
	if strings.Contains(text, "Async kept up") || !strings.Contains(text, "but it did not keep up: from 250 users its latency (554 ms) reached 50% of the pacing interval") {
		t.Errorf("conclusion:\n%s", text)
	}
}

// A run with --loadgen-workers says its figures are one machine's, names
// the workers' command and any worker that did not exit cleanly; a run
// without says nothing of workers.
func TestDistributedRunSaysOneMachine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		workers int
		source  string // the self-checks' timeline_source
		want    []string
		notWant []string
	}{
		{"one process", 0, "", nil, []string{"one machine's figures", "loadgen workers"}},
		{"master and 2 workers", 2, loadgenjson.TimelineWorkers, []string{
			"a loadgen master and 2 loadgen workers per experiment (--loadgen-workers 2, Locust's master/worker protocol), all on this one machine",
			"so these are one machine's figures",
			"loadgen workers: 2 per experiment",
			"each of its 2 workers: `bin/loadgen --worker --master-host 127.0.0.1 --master-port 40000 ApiSyncUser`",
			"Workers that did not exit cleanly when their master quit: sync 1 worker 2 (exit -1).",
			"the self-check below is the workers': each verdict the worst worker's, each flagged second the worst worker's in that second.",
		}, []string{"master process's"}},
		{"master and 2 workers, from a loadgen that kept the master's seconds", 2, "", []string{
			"the self-check seconds below are the master process's, which sent no requests",
		}, []string{"the self-check below is the workers'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			r.Settings.LoadgenWorkers = tc.workers
			for _, tg := range r.Targets {
				for _, e := range tg.Experiments {
					if e.SelfCheck != nil {
						e.SelfCheck.TimelineSource = tc.source
					}
					for i := range tc.workers {
						code := 0
						if tg.Name == "sync" && e.Number == 1 && i == 1 {
							code = -1
						}
						e.Workers = append(e.Workers, results.Worker{Command: []string{"bin/loadgen", "--worker", "--master-host", "127.0.0.1", "--master-port", "40000", tg.Settings.UserClass}, ExitCode: code})
					}
				}
			}
			analysis.Analyze(r)
			md, err := Markdown(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("summary lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(md, w) {
					t.Errorf("summary has %q", w)
				}
			}
		})
	}
}

// TestExternalPredictionsFromStatedParts: with --external the lab knows
// only what the command line stated about the services, so a floor or
// prediction comes from stated parts alone and is "unknown" otherwise,
// never the profile's defaults.
func TestExternalPredictionsFromStatedParts(t *testing.T) {
	t.Parallel()
	four, two, one := 4, 2, 1
	delay, cpu := "40ms-50ms", 10*time.Millisecond
	tests := []struct {
		name        string
		stated      *results.Stated
		want, never []string
	}{
		{"nothing stated", nil,
			[]string{"its floor is unknown: --external and no --model-delay or --fanout given",
				"(nothing was stated)",
				"The queueing model makes no prediction: unknown (--external and no --sync-workers given)",
				"The queueing model makes no prediction: unknown (--external and no --async-loops or --cpu-cost given)",
				"| unknown | unknown: --external and no --sync-workers given |"},
			[]string{"W / E[S] = 8", "L / c", "workers 8", "loops 1", "90.0 ms", "47.1 ms floor", "not CPU-bound"}},
		{"every part stated", &results.Stated{SyncWorkers: &four, AsyncLoops: &two, ModelDelay: &delay, Fanout: &two, CPUCost: &cpu},
			[]string{"above its 90.0 ms floor from the stated delays", "--sync-workers 4, --async-loops 2, --model-delay 40ms-50ms, --fanout 2, --cpu-cost 10ms",
				"The queueing model, from the parts stated on the command line, predicted", "W / E[S] = 4 / ", "L / c = 2 / 10.00 ms"},
			[]string{"W / E[S] = 8", "unknown (", "unknown:"}},
		{"workers only", &results.Stated{SyncWorkers: &one},
			[]string{"W / E[S] = 1 / ", "Model-only prediction for sync: unknown: --external and no --fanout or --model-delay or --cpu-cost given"},
			[]string{"W / E[S] = 8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			r.Settings.External, r.Settings.Stated = true, tc.stated
			analysis.Analyze(r)
			md, err := Markdown(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("summary lacks %q", w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(md, n) {
					t.Errorf("summary claims %q", n)
				}
			}
			if t.Failed() {
				t.Log(md)
			}
		})
	}
}

// The peak comparison is a bound only in the direction the data allows, and no ranking at
// all when neither target fell behind.
func TestPeakComparison(t *testing.T) {
	t.Parallel()
	an := func(peak float64, reached bool) *results.Analysis {
		return &results.Analysis{PeakThroughput: peak, Breakpoint: &breakpoint.Result{Reached: reached}}
	}
	for _, tc := range []struct {
		name       string
		sync, asyn *results.Analysis
		want       string
	}{
		{"async ahead, async never fell behind", an(88, true), an(283.3, false), "completed at least 3.22× the blocking server's throughput"},
		{"async ahead, both fell behind", an(88, true), an(176, true), "completed 2.00× the blocking"},
		{"sync ahead, sync never fell behind", an(66, false), an(49.5, true), "completed only at most 0.75× the blocking server's throughput"},
		{"sync ahead, both fell behind", an(66, true), an(49.5, true), "completed only 0.75× the blocking server's throughput (49.5 vs 66.0 req/s, best 10 s): here the blocking server gets more"},
		{"neither fell behind", an(290, false), an(291, false), "Neither server fell behind the load offered"},
	} {
		if got := peakComparison(tc.sync, tc.asyn); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, got, tc.want)
		}
	}
}

// summary.md links each chart, with its caption, where index.html shows it inline.
func TestMarkdownLinksCharts(t *testing.T) {
	t.Parallel()
	r := fixture()
	analysis.Analyze(r)
	md, err := Markdown(r, []Chart{{File: "load_test.png", Title: "Experiment 2 — load_test", Caption: "What to look for: the knee."}})
	if err != nil {
		t.Fatal(err)
	}
	chart := strings.Index(md, "![Experiment 2 — load_test](load_test.png)\n\nWhat to look for: the knee.\n")
	totals := strings.Index(md, "## Experiments 1–4")
	if chart < 0 || totals < 0 || chart > totals {
		t.Errorf("chart link at %d, totals section at %d; want the chart just before the totals:\n%s", chart, totals, md)
	}
}
