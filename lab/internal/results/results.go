// Package results is the model of a lab run's results.json and the one
// place that reads loadgen's result files (the Locust CSVs and --json).
//
// The orchestrator fills Results as experiments finish; package analysis
// derives each Target's Analysis from them; package report renders them. A
// run's folder alone (results.json and the CSVs) is enough to rebuild its
// report. The types are plain data: share them only once they are built.
package results

import (
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/envinfo"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/queueing"
	"predictlab/lab/internal/scrape"
)

// Results is everything a lab run measured, as written to results.json.
type Results struct {
	Profile  profile.Profile `json:"profile"`
	Settings Settings        `json:"settings"`
	Env      envinfo.Env     `json:"environment"`
	Started  time.Time       `json:"started"`
	Ended    time.Time       `json:"ended"`
	// Status is "complete", "interrupted" or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Targets are in the order they ran (sync, then async).
	Targets []*Target `json:"targets"`
}

// Settings is how the lab was invoked.
type Settings struct {
	Out                string    `json:"out"`
	Bind               string    `json:"bind"`
	Ports              []Port    `json:"ports,omitempty"`
	External           bool      `json:"external"`
	SyncURL            string    `json:"sync_url"`
	AsyncURL           string    `json:"async_url"`
	TargetsBin         string    `json:"targets_bin"`
	LoadgenBin         string    `json:"loadgen_bin"`
	LoadgenHTML        bool      `json:"loadgen_html"`
	LoadgenFullHistory bool      `json:"loadgen_full_history"`
	Only               string    `json:"only,omitempty"`
	Experiments        []int     `json:"experiments"`
	Services           []Command `json:"services,omitempty"`
	// LoadgenWorkers is --loadgen-workers: with N > 0 each experiment ran
	// as a loadgen master and N local loadgen workers (Locust's
	// master/worker protocol); 0 = one loadgen process.
	LoadgenWorkers int `json:"loadgen_workers"`
	// Stated is what the command line stated about external services'
	// parts (--sync-workers, --async-loops, --model-delay, --fanout,
	// --cpu-cost): with External, the only inputs a floor or prediction
	// may use. Nil when nothing was stated.
	Stated *Stated `json:"stated,omitempty"`
}

// Stated is what a user stated about external services' parts. A nil
// field was not stated: the lab does not know it, and says "unknown"
// wherever it would be needed (zero is a statement, e.g. no CPU cost).
type Stated struct {
	// SyncWorkers is the blocking scoring service's worker pool size.
	SyncWorkers *int `json:"sync_workers,omitempty"`
	// AsyncLoops is the event-loop scoring service's number of loops.
	AsyncLoops *int `json:"async_loops,omitempty"`
	// ModelDelay is the downstream model calls' delay range, as
	// targetsapi.ParseDelayRange reads it (e.g. 40ms-50ms).
	ModelDelay *string `json:"model_delay,omitempty"`
	// Fanout is the number of model calls per scoring request.
	Fanout *int `json:"fanout,omitempty"`
	// CPUCost is the scoring services' CPU time per request (in JSON,
	// nanoseconds, as every duration in results.json).
	CPUCost *time.Duration `json:"cpu_cost,omitempty"`
}

// Empty reports whether nothing was stated.
func (s *Stated) Empty() bool {
	return s == nil || (s.SyncWorkers == nil && s.AsyncLoops == nil && s.ModelDelay == nil && s.Fanout == nil && s.CPUCost == nil)
}

// Port is one service's port.
type Port struct {
	Service string `json:"service"`
	Port    int    `json:"port"`
}

// Command is a child process's command line.
type Command struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
}

// Worker is one loadgen worker child of a distributed experiment.
type Worker struct {
	Command []string `json:"command"`
	// Log is its log file, relative to the run folder.
	Log string `json:"log"`
	// ExitCode is -1 when it was killed by a signal, or never ended.
	ExitCode int `json:"exit_code"`
}

// Target is one architecture's results.
type Target struct {
	Name        string         `json:"name"` // "sync" or "async"
	URL         string         `json:"url"`
	Settings    profile.Target `json:"settings"`
	Experiments []*Experiment  `json:"experiments"`
	Analysis    *Analysis      `json:"analysis,omitempty"`
}

// Experiment is one finished (or aborted) experiment.
type Experiment struct {
	Number    int           `json:"number"`
	Name      string        `json:"name"`
	File      string        `json:"file"` // file base, e.g. load_test_sync
	Users     int           `json:"users"`
	SpawnRate float64       `json:"spawn_rate"`
	RunTime   time.Duration `json:"run_time"`
	// UsersFrom says where Users came from ("profile", "breaking point",
	// "largest count tested").
	UsersFrom string   `json:"users_from"`
	Command   []string `json:"command"` // loadgen's, or its master's
	// Workers are the loadgen worker children (with --loadgen-workers).
	Workers  []Worker  `json:"workers,omitempty"`
	ExitCode int       `json:"exit_code"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Error    string    `json:"error,omitempty"`
	Stats    *Summary  `json:"stats,omitempty"`
	Intended *Summary  `json:"intended,omitempty"`
	// History is the Aggregated rows of the stats history.
	History []HistPoint `json:"history"`
	// Internals are the per-second server internals, by service
	// ("scoring", "model").
	Internals map[string][]scrape.Point `json:"internals,omitempty"`
	// LoopBusySeconds and ServerRequests are counter increases over the
	// experiment on the scoring service (NaN when not exported).
	LoopBusySeconds jsonnum.Float          `json:"loop_busy_seconds"`
	ServerRequests  jsonnum.Float          `json:"server_requests"`
	SelfCheck       *loadgenjson.SelfCheck `json:"self_check,omitempty"`
	// LoadAvg is the machine's 1-minute load average at the end of the
	// experiment (NaN when unknown): above the CPU count, other work
	// competed with the services and the generator.
	LoadAvg jsonnum.Float `json:"load_avg"`
	// StartState is the target's state just before loadgen started (nil
	// when the experiment never got that far).
	StartState *StartState `json:"start_state,omitempty"`
	// Failed says why the experiment's numbers are not a result (0
	// requests, mostly failures, a service that exited); empty when they
	// are. Nothing is concluded from a failed experiment.
	Failed string `json:"failed,omitempty"`
}

// StartState is how idle the target was when an experiment started.
type StartState struct {
	// Inflight is the scoring service's predictlab_inflight_requests read
	// just before loadgen started (NaN when it exports no /metrics).
	Inflight jsonnum.Float `json:"inflight"`
	// WaitedMS is how long the lab waited for the target to be idle.
	WaitedMS int64 `json:"waited_ms"`
	// TimedOut is set when the target was still busy when the wait's
	// bound ran out, and the experiment started anyway.
	TimedOut bool `json:"timed_out,omitempty"`
	// ProbeMS is the response time of the last probe request, for a
	// target without /metrics that was probed instead (absent otherwise).
	ProbeMS *float64 `json:"probe_ms,omitempty"`
}

// Summary is the Aggregated line of a stats file (times in ms).
type Summary struct {
	Requests int64         `json:"requests"`
	Failures int64         `json:"failures"`
	AvgMS    float64       `json:"avg_ms"`
	MinMS    float64       `json:"min_ms"`
	MaxMS    float64       `json:"max_ms"`
	MedianMS float64       `json:"median_ms"`
	P95MS    jsonnum.Float `json:"p95_ms"`
	P99MS    jsonnum.Float `json:"p99_ms"`
	RPS      float64       `json:"rps"`
}

// HistPoint is one Aggregated history row.
type HistPoint struct {
	T          int64         `json:"t"` // Unix seconds
	Users      int           `json:"users"`
	Total      int64         `json:"total"`
	Failures   int64         `json:"failures"`
	TotalAvgMS float64       `json:"total_avg_ms"`
	RPS        jsonnum.Float `json:"rps"`
	P50        jsonnum.Float `json:"p50"`
	P95        jsonnum.Float `json:"p95"`
	// Current is true when P50/P95 are current-window percentiles
	// (--csv-full-history), false when cumulative.
	Current bool `json:"current"`
}

// Analysis is what the report derives for one target.
type Analysis struct {
	// Exp1 is experiment 1 beside the physical floor.
	Exp1 *Exp1 `json:"exp1,omitempty"`
	// Breakpoint is the throughput rule applied to experiment 2.
	Breakpoint *breakpoint.Result `json:"breakpoint,omitempty"`
	// Rule states the breaking-point rule in words.
	Rule string `json:"rule"`
	// PeakThroughput is the best 10 s completion rate in experiments 2–4
	// (a long window, so a catch-up burst after a stall does not count).
	PeakThroughput float64 `json:"peak_throughput"`
	// Prediction is the queueing model's capacity from measured inputs
	// (blocking: experiment 1's mean; event loop: configured CPU cost),
	// ModelPrediction from the configured costs alone, and
	// MeasuredCPUPrediction from the loop's measured busy time per request.
	Prediction            queueing.Prediction  `json:"prediction"`
	ModelPrediction       queueing.Prediction  `json:"model_prediction"`
	MeasuredCPUPrediction *queueing.Prediction `json:"measured_cpu_prediction,omitempty"`
	MeasuredLoopCPUMS     float64              `json:"measured_loop_cpu_ms,omitempty"`
	// Little holds Little's-law cross-checks.
	Little []Little `json:"little"`
	// GeneratorFlags are the seconds where loadgen's self-check says the
	// generator, not the server, may have been the limit.
	GeneratorFlags []GeneratorFlag `json:"generator_flags"`
	GeneratorValid bool            `json:"generator_valid"`
	// BreakpointGeneratorLimited is set when a flagged second falls in
	// experiment 2 at or before the breaking point.
	BreakpointGeneratorLimited bool `json:"breakpoint_generator_limited"`
	// Stress compares latency from the intended start with the actual one.
	Stress *Stress `json:"stress,omitempty"`
	// Internals summarises the server internals during experiment 3.
	Internals *InternalsSummary `json:"internals,omitempty"`
	// Saturation is where experiment 2's latency reached SaturationShare of
	// the pacing interval (nil when it never did).
	Saturation *Saturation `json:"saturation,omitempty"`
	// Exp3 checks experiment 3: its users against the prediction, its
	// stability, and the queue its one-second bursts build.
	Exp3 *Exp3Check `json:"exp3,omitempty"`
}

// Saturation marks a closed-loop run whose server was saturated although
// throughput kept up: under constant pacing a user waits what is left of
// the interval, so once latency nears the interval the users send less
// often and the queue hides behind the pacing.
type Saturation struct {
	// Users is the first user count whose window mean latency reached
	// LimitMS; LatencyMS is that latency.
	Users     int     `json:"users"`
	LatencyMS float64 `json:"latency_ms"`
	LimitMS   float64 `json:"limit_ms"`
	// Rule states it in words.
	Rule string `json:"rule"`
}

// Exp3Check is experiment 3 (users at the breaking point, all at once)
// checked for what its latency means.
type Exp3Check struct {
	Users int `json:"users"`
	// PredictedUsers is the prediction's user count (0 = no bound);
	// AbovePrediction is set when Users exceeds it.
	PredictedUsers  float64 `json:"predicted_users"`
	AbovePrediction bool    `json:"above_prediction"`
	// FirstRPS and SecondRPS are successful completions per second in the
	// first and the second half of the run (after the users started);
	// FirstMS and SecondMS the halves' latency: the current median at the
	// end of each half, or the half's mean when the history has no current
	// percentiles (LatencyKind says which).
	FirstRPS    float64 `json:"first_rps"`
	SecondRPS   float64 `json:"second_rps"`
	FirstMS     float64 `json:"first_ms"`
	SecondMS    float64 `json:"second_ms"`
	LatencyKind string  `json:"latency_kind"`
	// Stable is the verdict of the stated bounds (Bounds).
	Stable bool   `json:"stable"`
	Bounds string `json:"bounds"`
	// BurstWaitMS is the mean wait the one-second bursts alone cause: all
	// Users send at once every pacing interval, and a server that holds a
	// request for h with m at a time (W workers for E[S], or L loops for
	// the CPU c) starts the k-th of a burst after ⌊k/m⌋ × h, even below
	// capacity. BurstWhy states the m and h used.
	BurstWaitMS float64 `json:"burst_wait_ms"`
	BurstWhy    string  `json:"burst_why"`
}

// Exp1 is the single-user response time beside its floor.
type Exp1 struct {
	AvgMS      float64 `json:"avg_ms"`
	MinMS      float64 `json:"min_ms"`
	MaxMS      float64 `json:"max_ms"`
	MedianMS   float64 `json:"median_ms"`
	RPS        float64 `json:"rps"`
	FloorMS    float64 `json:"floor_ms"`
	OverheadMS float64 `json:"overhead_ms"` // median − floor
	// FloorUnknown, when set, says why there is no floor (an external
	// service whose delays or fanout were not stated): FloorMS and
	// OverheadMS are then 0 and mean nothing.
	FloorUnknown string `json:"floor_unknown,omitempty"`
}

// Little is one Little's-law check: users ≈ X × (R + Z).
type Little struct {
	Where      string  `json:"where"`
	Users      float64 `json:"users"`
	Throughput float64 `json:"throughput"`
	LatencyMS  float64 `json:"latency_ms"`
	Predicted  float64 `json:"predicted_users"`
}

// GeneratorFlag is one second where the generator was strained.
type GeneratorFlag struct {
	Experiment int     `json:"experiment"`
	Timestamp  int64   `json:"timestamp"`
	Users      int     `json:"users"`
	CPUPercent float64 `json:"cpu_percent"`
	MaxLagMS   float64 `json:"max_lag_ms"`
}

// Stress is the intended-start vs actual latency of experiment 4.
type Stress struct {
	ActualMedianMS, IntendedMedianMS float64
	ActualP95MS, IntendedP95MS       jsonnum.Float
	ActualP99MS, IntendedP99MS       jsonnum.Float
}

// InternalsSummary is the mean and peak of the internals in experiment 3.
type InternalsSummary struct {
	Experiment      int           `json:"experiment"`
	MeanWorkersBusy jsonnum.Float `json:"mean_workers_busy"`
	MaxQueueLength  jsonnum.Float `json:"max_queue_length"`
	MeanLoopBusy    jsonnum.Float `json:"mean_loop_busy"`
	MeanLoopLagMS   jsonnum.Float `json:"mean_loop_lag_ms"`
}

// Find returns the experiment with the given number (nil if it did not run).
func (t *Target) Find(n int) *Experiment {
	for _, e := range t.Experiments {
		if e.Number == n {
			return e
		}
	}
	return nil
}
