// Package analysis derives what a lab report states from a run's
// measurements: experiment 1 beside its physical floor, the breaking point
// of experiment 2 (the one computation both experiment 3's user count and
// the report use), the queueing model's predictions, Little's-law
// cross-checks and the load generator's validity. Everything here is a
// pure function of a results.Results.
package analysis

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/queueing"
	"predictlab/lab/internal/results"
)

// Thresholds of the generator check (Locust warns at 90% CPU).
const (
	GeneratorCPUPercent = 90.0
	GeneratorLagMS      = 10.0 // loadgen's own validity threshold
	// FeatureFetchMS is the feature-store round trip the blocking model
	// assumes (a loopback Redis GET).
	FeatureFetchMS = 0.5
)

// Floor is the median response time the model delays alone impose: the sum
// of fanout sequential draws for a blocking target, their maximum for an
// event loop (both calls at once).
func Floor(t profile.Target) float64 {
	return floorMS(targetsapi.Style(t.Style), targetsapi.DelayRange{Min: t.Model.ModelDelayMin, Max: t.Model.ModelDelayMax}, t.Scoring.Fanout)
}

func floorMS(style targetsapi.Style, d targetsapi.DelayRange, fanout int) float64 {
	lo := float64(d.Min) / float64(time.Millisecond)
	hi := float64(d.Max) / float64(time.Millisecond)
	n := float64(fanout)
	if style == targetsapi.Blocking {
		return n * (lo + hi) / 2 // the sum of uniforms is symmetric about its mean
	}
	return lo + (hi-lo)*math.Pow(0.5, 1/n) // median of the max of n uniforms
}

// Points converts history rows for the breaking-point rule.
func Points(h []results.HistPoint) []breakpoint.Point {
	out := make([]breakpoint.Point, len(h))
	for i, p := range h {
		out[i] = breakpoint.Point{Time: float64(p.T), Users: p.Users, Total: p.Total, Failures: p.Failures,
			TotalAvgMS: p.TotalAvgMS, MedianMS: float64(p.P50), P95MS: float64(p.P95), Current: p.Current, RPS: float64(p.RPS)}
	}
	return out
}

// RuleText states the breaking-point rule.
func RuleText(c breakpoint.Config) string {
	return fmt.Sprintf("From experiment 2's history: completions per second = the increase of Total Request Count over a %d s window; "+
		"offered rate = users × 1/pacing (%s), with the users taken when the window's requests were sent (shifted back by the window's mean latency). "+
		"The breaking point is the largest user count whose window still completes ≥ %.0f%% of the offered rate, before the first %d consecutive windows below it. "+
		"The latency knee is the first user count whose window mean latency exceeds %.0f× experiment 1's median.",
		c.Window, c.Pacing, c.Threshold*100, c.Sustain, c.KneeFactor)
}

// MaxFailureShare is the share of failed requests above which an
// experiment is no result: the target was down or refusing, and its fast
// failures say nothing about its capacity.
const MaxFailureShare = 0.5

// Failure says why an experiment's numbers are not a result: no
// statistics, 0 requests, or more than MaxFailureShare of them failed.
// It is empty for a usable experiment.
func Failure(e *results.Experiment) string {
	switch s := e.Stats; {
	case s == nil:
		return "no statistics"
	case s.Requests == 0:
		return "0 requests"
	case float64(s.Failures) > MaxFailureShare*float64(s.Requests):
		return fmt.Sprintf("%d of %d requests failed (%.0f%%)", s.Failures, s.Requests, float64(s.Failures)/float64(s.Requests)*100)
	}
	return ""
}

// usable returns t's experiment n unless it did not run or failed.
func usable(t *results.Target, n int) *results.Experiment {
	if e := t.Find(n); e != nil && e.Failed == "" {
		return e
	}
	return nil
}

// RuleConfig is the breaking-point rule's parameters for target t: the
// default rule with t's experiment 1 median as the knee's baseline (none
// when experiment 1 did not run or answered nothing).
func RuleConfig(t *results.Target, pacing time.Duration) breakpoint.Config {
	if pacing <= 0 {
		pacing = time.Second
	}
	baseline := 0.0
	if e := usable(t, 1); e != nil && e.Stats != nil && e.Stats.Requests > 0 {
		baseline = e.Stats.MedianMS
	}
	c := breakpoint.DefaultConfig(baseline)
	c.Pacing = pacing
	return c
}

// BreakingPoint applies the rule to t's experiment 2. It is nil when
// experiment 2 did not run or left no history. The lab calls it to choose
// experiment 3's users and the report calls it to state the result: one
// computation for both.
func BreakingPoint(t *results.Target, pacing time.Duration) (*breakpoint.Result, breakpoint.Config) {
	c := RuleConfig(t, pacing)
	e := usable(t, 2)
	if e == nil || len(e.History) == 0 {
		return nil, c
	}
	bp, err := breakpoint.Find(Points(e.History), c)
	if err != nil {
		return nil, c
	}
	return &bp, c
}

// MaxPerformanceUsers chooses experiment 3's user count from experiment 2's
// breaking point, with fallback (the profile's count) when there is none,
// and says where the count came from.
func MaxPerformanceUsers(t *results.Target, fallback int, pacing time.Duration) (int, string) {
	if e2 := t.Find(2); e2 != nil && e2.Failed != "" {
		return fallback, "profile (experiment 2 failed)"
	}
	if e2 := t.Find(2); e2 == nil || len(e2.History) == 0 {
		return fallback, "profile (experiment 2 not run)"
	}
	bp, _ := BreakingPoint(t, pacing)
	switch {
	case bp == nil || bp.MaxUsers == 0:
		return fallback, "profile (no usable experiment 2 history)"
	case !bp.Reached:
		return bp.MaxUsers, "largest count tested (breaking point not reached)"
	case bp.Users < 1:
		return 1, "1 (fell behind from the start)"
	}
	return bp.Users, "breaking point"
}

// Analyze derives every target's Analysis from its measurements.
func Analyze(r *results.Results) {
	for _, t := range r.Targets {
		t.Analysis = analyze(t, PartsOf(r, t), r.Profile.Pacing)
	}
}

func analyze(t *results.Target, parts Parts, pacing time.Duration) *results.Analysis {
	if pacing <= 0 {
		pacing = time.Second
	}
	a := &results.Analysis{GeneratorValid: true}
	if e := usable(t, 1); e != nil && e.Stats != nil && e.Stats.Requests > 0 {
		a.Exp1 = &results.Exp1{AvgMS: e.Stats.AvgMS, MinMS: e.Stats.MinMS, MaxMS: e.Stats.MaxMS, MedianMS: e.Stats.MedianMS, RPS: e.Stats.RPS}
		if why := parts.missing("--model-delay", "--fanout"); why != "" {
			a.Exp1.FloorUnknown = why
		} else {
			floor := floorMS(targetsapi.Style(t.Settings.Style), parts.Delay, parts.Fanout)
			a.Exp1.FloorMS, a.Exp1.OverheadMS = floor, e.Stats.MedianMS-floor
		}
	}
	bp, cfg := BreakingPoint(t, pacing)
	a.Rule = RuleText(cfg)
	a.Breakpoint = bp
	a.Saturation = saturation(bp, pacing)
	for _, n := range []int{2, 3, 4} {
		if e := usable(t, n); e != nil {
			w := min(10, max(1, len(e.History)-2)) // short (smoke) runs: a shorter window
			for _, s := range breakpoint.Steps(Points(e.History), w, pacing.Seconds(), cfg.Threshold) {
				a.PeakThroughput = math.Max(a.PeakThroughput, s.Completed)
			}
		}
	}
	predict(a, t, parts, pacing)
	// Little's law: at the breaking point and over experiment 3.
	if bp := a.Breakpoint; bp != nil && bp.At.Completed > 0 {
		where := "experiment 2 at the breaking point"
		if !bp.Reached {
			where = "experiment 2 at its largest passing step (no breaking point reached)"
		}
		a.Little = append(a.Little, results.Little{Where: where, Users: float64(bp.At.Users),
			Throughput: bp.At.Completed, LatencyMS: bp.At.LatencyMS,
			Predicted: breakpoint.LittleUsers(bp.At.Completed, bp.At.LatencyMS, pacing)})
	}
	if e := usable(t, 3); e != nil && e.Stats != nil && e.Stats.Requests > 0 {
		a.Little = append(a.Little, results.Little{Where: "experiment 3 (whole run)", Users: float64(e.Users),
			Throughput: e.Stats.RPS, LatencyMS: e.Stats.AvgMS,
			Predicted: breakpoint.LittleUsers(e.Stats.RPS, e.Stats.AvgMS, pacing)})
	}
	// Generator self-check.
	for _, e := range t.Experiments {
		if e.SelfCheck == nil {
			continue
		}
		if !e.SelfCheck.Valid {
			a.GeneratorValid = false
		}
		for _, tk := range e.SelfCheck.Timeline {
			if tk.CPUPercent >= GeneratorCPUPercent || lateSecond(tk) {
				a.GeneratorFlags = append(a.GeneratorFlags, results.GeneratorFlag{Experiment: e.Number, Timestamp: tk.Timestamp,
					Users: tk.Users, CPUPercent: tk.CPUPercent, MaxLagMS: tk.MaxLagMS})
				if e.Number == 2 && a.Breakpoint != nil && a.Breakpoint.At.Time > 0 && float64(tk.Timestamp) <= a.Breakpoint.At.Time {
					a.BreakpointGeneratorLimited = true
				}
			}
		}
	}
	if e := usable(t, 4); e != nil && e.Stats != nil && e.Intended != nil {
		a.Stress = &results.Stress{ActualMedianMS: e.Stats.MedianMS, IntendedMedianMS: e.Intended.MedianMS,
			ActualP95MS: e.Stats.P95MS, IntendedP95MS: e.Intended.P95MS, ActualP99MS: e.Stats.P99MS, IntendedP99MS: e.Intended.P99MS}
	}
	a.Internals = summarizeInternals(t)
	if l := serverLittle(t); l != nil {
		a.Little = append(a.Little, *l)
	}
	a.Exp3 = checkExp3(t, parts, a)
	return a
}

// SaturationShare is the share of the pacing interval at which a window's
// mean latency marks the server saturated.
const SaturationShare = 0.5

// saturation finds the first experiment 2 window whose mean latency
// reached SaturationShare of the pacing interval.
func saturation(bp *breakpoint.Result, pacing time.Duration) *results.Saturation {
	if bp == nil {
		return nil
	}
	limit := SaturationShare * float64(pacing) / float64(time.Millisecond)
	for _, s := range bp.Steps {
		if s.LatencyMS >= limit {
			return &results.Saturation{Users: s.Users, LatencyMS: s.LatencyMS, LimitMS: limit,
				Rule: fmt.Sprintf("saturated once a window's mean latency reaches %.0f%% of the pacing interval (%s): past it each user waits less between requests, so the offered rate holds while the server's queue grows — throughput alone would still read as keeping up",
					SaturationShare*100, fmtDur(limit))}
		}
	}
	return nil
}

func fmtDur(ms float64) string { return (time.Duration(ms * float64(time.Millisecond))).String() }

// Stability bounds of experiment 3: the second half completes within
// StableRPSShare of the first half's rate, and its latency stays within
// StableLatencyShare of the first half's.
const (
	StableRPSShare     = 0.10
	StableLatencyShare = 0.25
)

// checkExp3 compares experiment 3's halves, flags users above the
// prediction and computes the burst queue (nil when it did not run).
func checkExp3(t *results.Target, parts Parts, a *results.Analysis) *results.Exp3Check {
	e := usable(t, 3)
	if e == nil || len(e.History) < 4 {
		return nil
	}
	c := &results.Exp3Check{Users: e.Users,
		Bounds: fmt.Sprintf("stable when the second half's successful completions/s are within ±%.0f%% of the first half's and its latency within ±%.0f%%",
			StableRPSShare*100, StableLatencyShare*100)}
	if a.Prediction.Bound && a.Prediction.Users > 0 {
		c.PredictedUsers = a.Prediction.Users
		c.AbovePrediction = float64(e.Users) > a.Prediction.Users
	}
	// Rows once every user has started, without the ramp-down.
	h := e.History
	for len(h) > 1 && h[len(h)-1].Users < h[len(h)-2].Users {
		h = h[:len(h)-1]
	}
	start := 0
	for start < len(h) && h[start].Users < e.Users {
		start++
	}
	h = h[start:]
	if len(h) < 5 {
		return c
	}
	mid := len(h) / 2
	rate := func(a, b results.HistPoint) float64 {
		if b.T <= a.T {
			return math.NaN()
		}
		return float64((b.Total-b.Failures)-(a.Total-a.Failures)) / float64(b.T-a.T)
	}
	meanMS := func(a, b results.HistPoint) float64 {
		if b.Total <= a.Total {
			return math.NaN()
		}
		return (b.TotalAvgMS*float64(b.Total) - a.TotalAvgMS*float64(a.Total)) / float64(b.Total-a.Total)
	}
	first, last := h[0], h[len(h)-1]
	c.FirstRPS, c.SecondRPS = rate(first, h[mid]), rate(h[mid], last)
	if h[mid].Current && h[mid].P50.Valid() && last.P50.Valid() && h[mid].P50 > 0 && last.P50 > 0 {
		c.FirstMS, c.SecondMS, c.LatencyKind = float64(h[mid].P50), float64(last.P50), "current median at the end of each half"
	} else {
		c.FirstMS, c.SecondMS, c.LatencyKind = meanMS(first, h[mid]), meanMS(h[mid], last), "mean of each half"
	}
	within := func(x, y, share float64) bool { return y > 0 && math.Abs(x-y) <= share*y }
	c.Stable = within(c.SecondRPS, c.FirstRPS, StableRPSShare) && within(c.SecondMS, c.FirstMS, StableLatencyShare)
	c.BurstWaitMS, c.BurstWhy = burstWait(t, parts, a, e.Users)
	return c
}

// burstWait is the mean wait of a burst of n requests at a server that
// serves m at a time, each for hold: the k-th starts after ⌊k/m⌋ × hold.
// It is 0, with a reason starting "unknown: ", when m or hold is unknown.
func burstWait(t *results.Target, p Parts, a *results.Analysis, n int) (float64, string) {
	m, holdMS, what := p.Loops, float64(p.CPU)/float64(time.Millisecond), "loop CPU c"
	need := []string{"--async-loops", "--cpu-cost"}
	if a.MeasuredLoopCPUMS > 0 {
		holdMS, what, need = a.MeasuredLoopCPUMS, "measured loop CPU c", need[:1]
	}
	if targetsapi.Style(t.Settings.Style) == targetsapi.Blocking {
		m, what, need = p.Workers, "E[S]", []string{"--sync-workers", "--fanout", "--model-delay", "--cpu-cost"}
		if p.missing(need...) == "" {
			holdMS = queueing.ServiceModelMS(FeatureFetchMS, p.Fanout, meanDelayMS(p.Delay), p.ModelCPU, p.CPU)
		}
		if a.Exp1 != nil && a.Exp1.AvgMS > 0 {
			holdMS, what, need = a.Exp1.AvgMS, "E[S] (experiment 1's mean)", need[:1]
		}
	}
	if why := p.missing(need...); why != "" {
		return 0, "unknown: " + why
	}
	if m < 1 || n < 1 || holdMS <= 0 {
		return 0, "no wait: nothing holds a request the others need"
	}
	var sum float64
	for k := 0; k < n; k++ {
		sum += float64(k / m)
	}
	return holdMS * sum / float64(n), fmt.Sprintf("%d at a time, %s = %s each", m, what, strconv.FormatFloat(holdMS, 'g', 3, 64)+" ms")
}

// predict makes a's predictions from what the lab knows of t's parts;
// a part it does not know makes the prediction "unknown", never a default.
func predict(a *results.Analysis, t *results.Target, p Parts, pacing time.Duration) {
	if targetsapi.Style(t.Settings.Style) == targetsapi.Blocking {
		if why := p.missing("--sync-workers", "--fanout", "--model-delay", "--cpu-cost"); why != "" {
			a.ModelPrediction = queueing.Unknowable(why)
		} else {
			modelMS := queueing.ServiceModelMS(FeatureFetchMS, p.Fanout, meanDelayMS(p.Delay), p.ModelCPU, p.CPU)
			a.ModelPrediction = queueing.Blocking(p.Workers, modelMS, pacing)
			a.ModelPrediction.Formula += " (E[S] from the model: features + fanout × (delay + model CPU) + scoring CPU)"
			if !p.ModelKnown {
				a.ModelPrediction.Formula += " (the model service's CPU is not known: not counted)"
			}
		}
		switch why := p.missing("--sync-workers"); {
		case why != "":
			a.Prediction = queueing.Unknowable(why)
		case a.Exp1 != nil:
			a.Prediction = queueing.Blocking(p.Workers, a.Exp1.AvgMS, pacing)
			a.Prediction.Formula += " (E[S] = experiment 1's mean)"
		default:
			a.Prediction = a.ModelPrediction
		}
		return
	}
	if why := p.missing("--async-loops", "--cpu-cost"); why != "" {
		a.ModelPrediction = queueing.Unknowable(why)
	} else {
		// The model service's loops are not known for external services
		// (0 leaves their bound out).
		a.ModelPrediction = queueing.EventLoop(p.Loops, p.CPU, p.ModelLoops, p.Fanout, p.ModelCPU, pacing)
	}
	a.Prediction = a.ModelPrediction
	if p.missing("--async-loops") != "" {
		return // a measured c still needs L
	}
	// The loop's measured busy time per request, from the busiest experiment.
	for _, n := range []int{3, 4, 2} {
		e := usable(t, n)
		if e == nil || !e.LoopBusySeconds.Valid() || !e.ServerRequests.Valid() {
			continue
		}
		if c, ok := queueing.MeasuredLoopCPU(float64(e.LoopBusySeconds), float64(e.ServerRequests)); ok && c > 0 {
			mp := queueing.EventLoop(p.Loops, c, 0, 0, 0, pacing)
			mp.Formula += fmt.Sprintf(" (c measured: loop busy time per request in experiment %d)", n)
			a.MeasuredCPUPrediction = &mp
			a.MeasuredLoopCPUMS = float64(c) / float64(time.Millisecond)
			break
		}
	}
}

func meanDelayMS(d targetsapi.DelayRange) float64 {
	return float64(d.Min+d.Max) / 2 / float64(time.Millisecond)
}

func summarizeInternals(t *results.Target) *results.InternalsSummary {
	for _, n := range []int{3, 4, 2} {
		e := usable(t, n)
		if e == nil || len(e.Internals["scoring"]) == 0 {
			continue
		}
		s := &results.InternalsSummary{Experiment: n}
		var busy, loop, lag []float64
		maxQ := jsonnum.NaN()
		for _, p := range e.Internals["scoring"] {
			if p.WorkersBusy.Valid() {
				busy = append(busy, float64(p.WorkersBusy))
			}
			if p.QueueLength.Valid() && (!maxQ.Valid() || p.QueueLength > maxQ) {
				maxQ = p.QueueLength
			}
			if p.LoopBusy.Valid() {
				loop = append(loop, float64(p.LoopBusy))
			}
			if p.LoopLagMS.Valid() {
				lag = append(lag, float64(p.LoopLagMS))
			}
		}
		s.MeanWorkersBusy, s.MaxQueueLength, s.MeanLoopBusy, s.MeanLoopLagMS = mean(busy), maxQ, mean(loop), mean(lag)
		return s
	}
	return nil
}

// serverLittle is Little's law inside the scoring service: requests in
// the server (the in-flight gauge, or workers busy + queue length) against
// throughput × server time (arrival to answer), from the scraped series of
// the busiest experiment with them (nil when there are none).
func serverLittle(t *results.Target) *results.Little {
	for _, n := range []int{3, 4, 2} {
		e := usable(t, n)
		if e == nil {
			continue
		}
		var in, x []float64
		var served, weighted float64
		for _, p := range e.Internals["scoring"] {
			switch {
			case p.Inflight.Valid():
				in = append(in, float64(p.Inflight))
			case p.WorkersBusy.Valid() && p.QueueLength.Valid():
				in = append(in, float64(p.WorkersBusy+p.QueueLength))
			}
			if p.RPS.Valid() {
				x = append(x, float64(p.RPS))
				if p.ServerMS.Valid() && p.ServerMS > 0 && p.RPS > 0 {
					served += float64(p.RPS)
					weighted += float64(p.RPS * p.ServerMS)
				}
			}
		}
		if len(in) == 0 || len(x) == 0 || served == 0 {
			continue
		}
		xs, ms := float64(mean(x)), weighted/served
		return &results.Little{Where: fmt.Sprintf("server side, experiment %d (requests in the scoring service, sampled once a second)", n),
			Users: float64(mean(in)), Throughput: xs, LatencyMS: ms, Predicted: xs * ms / 1000}
	}
	return nil
}

func mean(xs []float64) jsonnum.Float {
	if len(xs) == 0 {
		return jsonnum.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return jsonnum.Float(s / float64(len(xs)))
}

// lateSecond reports whether more than loadgenjson.LatePercent of a
// second's scheduled requests left over loadgenjson.LateMS late. A timeline
// from a loadgen without per-second counts falls back to its max lag.
func lateSecond(tk loadgenjson.Point) bool {
	if tk.ScheduledRequests == 0 {
		return tk.MaxLagMS >= GeneratorLagMS
	}
	return loadgenjson.TooLate(tk.LateRequests, tk.ScheduledRequests)
}
