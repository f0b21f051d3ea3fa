package sweep

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/envinfo"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/queueing"
	"predictlab/lab/internal/scrape"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestKnobParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		knob, raw string
		want      float64
		check     func(profile.Target) bool
		bad       bool
	}{
		{"workers", "16", 16, func(t profile.Target) bool { return t.Scoring.Workers == 16 }, false},
		{"model-workers", " 4 ", 4, func(t profile.Target) bool { return t.Model.Workers == 4 }, false},
		{"loops", "2", 2, func(t profile.Target) bool { return t.Scoring.Loops == 2 }, false},
		{"fanout", "3", 3, func(t profile.Target) bool { return t.Scoring.Fanout == 3 }, false},
		{"cpu-cost", "20", 20, func(t profile.Target) bool { return t.Scoring.CPUCost == 20*time.Millisecond }, false},
		{"cpu-cost", "2.5ms", 2.5, func(t profile.Target) bool { return t.Scoring.CPUCost == 2500*time.Microsecond }, false},
		{"cpu-cost", "0", 0, func(t profile.Target) bool { return t.Scoring.CPUCost == 0 }, false},
		{"model-delay", "40-50", 45, func(t profile.Target) bool {
			return t.Model.ModelDelayMin == 40*time.Millisecond && t.Model.ModelDelayMax == 50*time.Millisecond
		}, false},
		{"model-delay", "20ms-30ms", 25, nil, false},
		{"model-delay", "45", 45, func(t profile.Target) bool { return t.Model.ModelDelayMin == t.Model.ModelDelayMax }, false},
		{"workers", "0", 0, nil, true},
		{"workers", "four", 0, nil, true},
		{"cpu-cost", "-1", 0, nil, true},
		{"cpu-cost", "NaN", 0, nil, true},
		{"model-delay", "50-40", 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.knob+"="+tc.raw, func(t *testing.T) {
			t.Parallel()
			k, err := LookupKnob(tc.knob)
			if err != nil {
				t.Fatal(err)
			}
			s, err := k.Parse(tc.raw)
			if tc.bad {
				if err == nil {
					t.Fatalf("no error for %q", tc.raw)
				}
				return
			}
			if err != nil || s.Value != tc.want {
				t.Fatalf("got %+v, %v; want value %v", s, err, tc.want)
			}
			p, _ := profile.Lookup("full")
			tg := p.Sync
			s.Apply(&tg)
			if tc.check != nil && !tc.check(tg) {
				t.Errorf("settings not applied: %+v", tg)
			}
		})
	}
}

func TestParseValuesAndSet(t *testing.T) {
	t.Parallel()
	k, _ := LookupKnob("workers")
	if vs, err := k.ParseValues("4, 8,16,"); err != nil || len(vs) != 3 || vs[2].Value != 16 {
		t.Errorf("got %+v, %v", vs, err)
	}
	for _, bad := range []string{"", ",", "4,4", "4,x"} {
		if _, err := k.ParseValues(bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
	if s, err := ParseSet("model-workers=16"); err != nil || s.Knob != "model-workers" || s.Value != 16 {
		t.Errorf("got %+v, %v", s, err)
	}
	for _, bad := range []string{"model-workers", "threads=4", "loops=0"} {
		if _, err := ParseSet(bad); err == nil {
			t.Errorf("no error for --set %q", bad)
		}
	}
	if _, err := LookupKnob("threads"); err == nil || !strings.Contains(err.Error(), "workers") {
		t.Errorf("unknown knob error %v should list the knobs", err)
	}
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	// 100 users started over 2 s; the target completes 80 req/s, 1 of them failing.
	var rows []Row
	var total, fails int64
	for s := 0; s <= 12; s++ {
		u := min(100, 50*s)
		if s > 0 {
			total += 80
			fails++
		}
		rows = append(rows, Row{Time: 1000 + float64(s), Users: u, Total: total, Failures: fails})
	}
	stopping := append(slices.Clone(rows), Row{Time: 1013, Users: 0, Total: total + 5, Failures: fails})
	tests := []struct {
		name    string
		rows    []Row
		warmup  time.Duration
		wantRPS float64
		keptUp  bool
		bad     bool
	}{
		{"steady", rows, 4 * time.Second, 79, false, false},
		{"ramp-down row ignored", stopping, 4 * time.Second, 79, false, false},
		{"warm-up too long", rows, 9 * time.Second, 0, false, true},
		{"no users", []Row{{Time: 1}, {Time: 2}}, 0, 0, false, true},
		{"kept up: the load was the limit", func() []Row {
			r := slices.Clone(rows)
			for i := range r {
				r[i].Users = min(r[i].Users, 60)
			}
			return r
		}(), 2 * time.Second, 79, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Measure(tc.rows, time.Second, tc.warmup)
			if tc.bad {
				if err == nil {
					t.Fatalf("no error, got %+v", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(m.RPS-tc.wantRPS) > 1e-9 || m.KeptUp() != tc.keptUp || m.MinRPS != 79 || m.MaxRPS != 79 {
				t.Errorf("got %+v (kept up %v), want %.1f req/s, kept up %v", m, m.KeptUp(), tc.wantRPS, tc.keptUp)
			}
		})
	}
}

func TestOfferedUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pred float64
		max  int
		want int
	}{
		{88.9, 1200, 116},
		{20, 1200, 30}, // at least 10 req/s above
		{5000, 1200, 1200},
	}
	for _, tc := range tests {
		if got := OfferedUsers(tc.pred, time.Second, tc.max); got != tc.want {
			t.Errorf("OfferedUsers(%v, 1s, %d) = %d, want %d", tc.pred, tc.max, got, tc.want)
		}
	}
}

// fixture is a finished cpu-cost sweep of both targets with fixed
// measurements: the event loop leads at 0-10 ms and loses at 20 ms.
func fixture(t *testing.T) *Result {
	t.Helper()
	k, _ := LookupKnob("cpu-cost")
	vals, err := k.ParseValues("0,5,10,20")
	if err != nil {
		t.Fatal(err)
	}
	timing, _ := LookupTiming("quick")
	cfg := Config{Knob: k, Values: vals, Targets: []string{"sync", "async"}, Timing: timing, Out: "out", Bind: "127.0.0.1", Cores: 2,
		Command: []string{"lab", "sweep", "--knob", "cpu-cost", "--values", "0,5,10,20"}}
	start := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	r := &Result{Knob: k.Name, Config: cfg, Env: envinfo.Env{CPUs: 2, CPUModel: "test CPU", GitCommit: "abc123"},
		Pacing: time.Second, Started: start, Ended: start.Add(3 * time.Minute), Status: "complete"}
	measured := map[string][]float64{"sync": {87, 82, 77, 66}, "async": {1190, 185, 96, 49}}
	base, _ := profile.Lookup("full")
	for _, tn := range cfg.Targets {
		for i, v := range vals {
			tg, _ := base.Target(tn)
			v.Apply(&tg)
			c, err := Network(tg, 2).Predict()
			if err != nil {
				t.Fatal(err)
			}
			p := Point{Target: tn, Value: v.Value, Raw: v.Raw, Settings: tg, Capacity: c, PredictedRPS: c.PredictedRPS,
				Bottleneck: c.Bottleneck, Stations: c.Stations, MeasuredRPS: measured[tn][i], Valid: true,
				File: fileName(k.Name, v.Raw, tn), Users: OfferedUsers(c.PredictedRPS, time.Second, timing.MaxUsers),
				MedianMS: 500, LoadAvg: 1.5, SelfCheck: &loadgenjson.SelfCheck{Valid: true, MaxCPUPercent: 12}}
			p.Measured = Measured{RPS: p.MeasuredRPS, OfferedRPS: float64(p.Users)}
			p.GeneratorBound = p.Measured.KeptUp()
			if m := p.ModelCPUMS(); tn != "sync" || i > 0 { // sync c=0: not measured
				p.CPU = &CPU{PerRequestMS: ProcessCPU{Scoring: m - 1, Model: 0.7, Store: 0.15, Loadgen: 0.15, Total: m},
					MachineBusy: 0.9, OthersBusy: 0.05, Seconds: 9, Requests: 9 * p.MeasuredRPS}
			}
			r.Points = append(r.Points, p)
		}
	}
	return r
}

func TestConclusion(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	text := strings.Join(r.Conclusion(), "\n")
	for _, want := range []string{
		"**Crossover:** Between cpu-cost=10 and cpu-cost=20 the blocking pool (sync) takes the lead (measured sync 66.0 vs async 49.0 req/s at 20 ms)",
		"the model puts the crossover at c ≈ 13.5 ms",
		"--set loops=2",
		"moves from the CPU to the scoring event loop", // async: CPU at 0 ms, then the loop
		"the 8 scoring workers also wait",
		"1 point(s) were generator-bound",
		"**Accuracy:** all 7 valid, target-bound points are within ±10 %",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("conclusion lacks %q:\n%s", want, text)
		}
	}
	// A point 20 % below its prediction names the station the model got wrong.
	r.Points[3].MeasuredRPS = r.Points[3].PredictedRPS * 0.8
	r.Points[3].Server = ServerTime{Station: queueing.StationScoringPool, PerRequestMS: 148.4, CapacityRPS: 53.9}
	r.Points[3].LoadAvg = 14
	r.Points[3].CPU = nil // not measured: the load average stands in
	_, _, misses := r.Accuracy()
	if len(misses) != 1 || !strings.Contains(misses[0].Verdict(), "the model got the scoring pool wrong") ||
		!strings.Contains(misses[0].Verdict(), "/metrics: the scoring pool was busy 148.4 ms per request, the model expects 120.8 ms; the machine's load average was 14.0 on 2 cores") {
		t.Errorf("misses: %s", misses[0].Verdict())
	}
	// Measured, the machine's busy share over the window replaces it.
	r.Points[3].CPU = &CPU{MachineBusy: 1, OthersBusy: 0.55}
	if v := r.Points[3].Verdict(); !strings.Contains(v, "the model expects 120.8 ms; the machine was 100 % busy, other processes 55 %, so the services got less CPU") {
		t.Errorf("verdict with the machine measured: %s", v)
	}
}

// TestCPUVerdict: a miss at the CPU station names the CPU each process
// used per request beside the model's, and how busy the machine was.
func TestCPUVerdict(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	k, _ := LookupKnob("loops")
	v, _ := k.Parse("2")
	p := r.Points[7] // async, 20 ms
	v.Apply(&p.Settings)
	c, err := Network(p.Settings, 2).Predict()
	if err != nil || c.Bottleneck != queueing.StationCPU {
		t.Fatalf("async loops=2 at 20 ms: %+v, %v; want the CPU as bottleneck", c, err)
	}
	p.Capacity, p.PredictedRPS, p.Bottleneck, p.Stations = c, c.PredictedRPS, c.Bottleneck, c.Stations
	p.MeasuredRPS = 79.7
	p.CPU = &CPU{PerRequestMS: ProcessCPU{Scoring: 22.6, Model: 0.8, Store: 0.15, Loadgen: 0.1, Total: 23.65},
		MachineBusy: 0.985, OthersBusy: 0.04, Steal: 0.012, Seconds: 9}
	want := "-14.7 %: the model got the CPU wrong: it does less than cores / CPU per request = 2 / 21.40 ms says: " +
		"measured 23.6 ms of CPU per request across the processes (scoring 22.6, model 0.8, store 0.15, loadgen 0.10), the model 21.4 ms; " +
		"the machine was 98 % busy, other processes 4 %, hypervisor steal 1 %; what the others left of the 2 cores allows 1.92 / 23.6 ms = 81.2 req/s: the processes cost 11 % more CPU per request than the model says"
	if got := p.Verdict(); got != want {
		t.Errorf("verdict\n got %s\nwant %s", got, want)
	}
	// Which took the difference: the processes' CPU per request, or other processes.
	p.CPU.OthersBusy, p.CPU.PerRequestMS.Total = 0.02, 24.4 // 1.96 / 24.4 ms = 80.3 req/s
	if got := p.Verdict(); !strings.HasSuffix(got, "= 80.3 req/s: the processes cost 14 % more CPU per request than the model says") {
		t.Errorf("verdict, the processes over the model: %s", got)
	}
	p.CPU.OthersBusy, p.CPU.PerRequestMS.Total = 0.15, 21.4 // 1.70 / 21.4 ms = 79.4 req/s
	if got := p.Verdict(); !strings.HasSuffix(got, "= 79.4 req/s: the processes cost what the model says, and other processes took the difference") {
		t.Errorf("verdict, other processes: %s", got)
	}
	p.CPU = nil
	if got := p.Verdict(); !strings.HasSuffix(got, "says (CPU per request not measured)") {
		t.Errorf("verdict without /proc: %s", got)
	}
	// The scoring loop's /metrics note is for the loop, not the CPU station.
	p.Server = ServerTime{Station: queueing.StationScoringLoop, PerRequestMS: 24, CapacityRPS: 83}
	if got := p.Verdict(); strings.Contains(got, "/metrics") {
		t.Errorf("CPU verdict with the loop's note: %s", got)
	}
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sweep.json", "summary.md"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update to accept):\n%s", name, golden, got)
		}
	}
	// sweep.json has exactly the documented keys.
	var doc map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err := json.Unmarshal(b, &doc); err != nil || len(doc) != 2 || doc["knob"] == nil || doc["points"] == nil {
		t.Fatalf("sweep.json top level: %v %s", err, b)
	}
	var pts []map[string]json.RawMessage
	if err := json.Unmarshal(doc["points"], &pts); err != nil || len(pts) != 8 {
		t.Fatalf("points: %v", err)
	}
	var keys []string
	for k := range pts[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"bottleneck", "cpu", "generator_bound", "measured_rps", "predicted_rps", "stations", "target", "valid", "value"}
	if !slices.Equal(keys, want) {
		t.Errorf("point keys %v, want %v", keys, want)
	}
	png, err := os.ReadFile(filepath.Join(dir, "sweep.png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("sweep.png: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<strong>Crossover:</strong>", `src="data:image/png;base64,`, "≥ 1190.0 (generator-bound)",
		`<a href="sweep_cpu-cost_20_async.html">`, queueing.StationScoringLoop,
		"<th>CPU ms/request, measured / model</th>", "<td>21.4 / 21.4</td><td>90 % busy, other processes 5 %</td>"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	k, _ := LookupKnob("workers")
	vals, _ := k.ParseValues("4,8")
	set, _ := ParseSet("workers=4")
	ok := Config{Knob: k, Values: vals, Targets: []string{"sync"}, Out: "o", Bind: "127.0.0.1", Cores: 2,
		Ports: targetsapi.Ports{SyncModel: 1, SyncScoring: 2, AsyncModel: 3, AsyncScoring: 4, Store: 5}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(c *Config){
		func(c *Config) { c.Values = nil },
		func(c *Config) { c.Targets = []string{"both"} },
		func(c *Config) { c.Sets = []Setting{set} },
		func(c *Config) { c.Bind = "example.com" },
		func(c *Config) { c.Ports.Store = 70000 },
		func(c *Config) { c.Cores = 0 },
	}
	for i, f := range bad {
		c := ok
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: no error for %+v", i, c)
		}
	}
}

func TestServerTimeOf(t *testing.T) {
	t.Parallel()
	base, _ := profile.Lookup("full")
	at := func(sec int, busy, n float64, busyName string) scrape.Sample {
		return scrape.Sample{Time: time.Unix(int64(1000+sec), 0), Values: map[string]float64{
			busyName: busy, targetsapi.MetricRequestDuration + "_count": n}}
	}
	loop := []scrape.Sample{at(0, 0, 0, targetsapi.MetricLoopBusySeconds), at(5, 1, 100, targetsapi.MetricLoopBusySeconds),
		at(10, 2.2, 200, targetsapi.MetricLoopBusySeconds), at(15, 3.4, 300, targetsapi.MetricLoopBusySeconds)}
	pool := []scrape.Sample{at(5, 10, 100, targetsapi.MetricWorkersBusySeconds), at(10, 19, 190, targetsapi.MetricWorkersBusySeconds)}
	tests := []struct {
		name      string
		samples   []scrape.Sample
		target    profile.Target
		wantMS    float64
		wantCap   float64
		wantStati string
	}{
		{"event loop: c from busy seconds, the window only", loop, base.Async, 12, 1 / 0.012, "scoring event loop"},
		{"pool: E[S] from the workers' busy seconds", pool, base.Sync, 100, 8 / 0.1, "scoring pool"},
		{"no metrics", []scrape.Sample{{Time: time.Unix(1005, 0)}, {Time: time.Unix(1010, 0)}}, base.Sync, 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ServerTimeOf(tc.samples, tc.target, 1005, 1015)
			if math.Abs(got.PerRequestMS-tc.wantMS) > 1e-9 || math.Abs(got.CapacityRPS-tc.wantCap) > 1e-9 || got.Station != tc.wantStati {
				t.Errorf("got %+v, want %.1f ms, %.2f req/s, %q", got, tc.wantMS, tc.wantCap, tc.wantStati)
			}
		})
	}
}

// TestCrossoverCountsInvalidRuns: a flip between runs the self-check
// judged invalid is still shown, with that said.
func TestCrossoverCountsInvalidRuns(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	for i := range r.Points {
		if r.Points[i].Value == 20 {
			r.Points[i].Valid = false
		}
	}
	text := strings.Join(r.Conclusion(), "\n")
	if !strings.Contains(text, "Between cpu-cost=10 and cpu-cost=20 the blocking pool (sync) takes the lead") ||
		!strings.Contains(text, "judged some of these four runs invalid") {
		t.Errorf("conclusion:\n%s", text)
	}
}
