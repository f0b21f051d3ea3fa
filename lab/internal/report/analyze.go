package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/queueing"
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
	lo := float64(t.Model.ModelDelayMin) / float64(time.Millisecond)
	hi := float64(t.Model.ModelDelayMax) / float64(time.Millisecond)
	n := float64(t.Scoring.Fanout)
	if t.Style == "blocking" {
		return n * (lo + hi) / 2 // the sum of uniforms is symmetric about its mean
	}
	return lo + (hi-lo)*math.Pow(0.5, 1/n) // median of the max of n uniforms
}

// Points converts history rows for the breaking-point rule.
func Points(h []HistPoint) []breakpoint.Point {
	out := make([]breakpoint.Point, len(h))
	for i, p := range h {
		out[i] = breakpoint.Point{Time: float64(p.T), Users: p.Users, Total: p.Total, Failures: p.Failures,
			TotalAvgMS: p.TotalAvgMS, MedianMS: float64(p.P50), P95MS: float64(p.P95), Current: p.Current, RPS: float64(p.RPS)}
	}
	return out
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

// RuleText states the breaking-point rule.
func RuleText(c breakpoint.Config) string {
	return fmt.Sprintf("From experiment 2's history: completions per second = the increase of Total Request Count over a %d s window; "+
		"offered rate = users × 1/pacing (%s), with the users taken when the window's requests were sent (shifted back by the window's mean latency). "+
		"The breaking point is the largest user count whose window still completes ≥ %.0f%% of the offered rate, before the first %d consecutive windows below it. "+
		"The latency knee is the first user count whose window mean latency exceeds %.0f× experiment 1's median.",
		c.Window, c.Pacing, c.Threshold*100, c.Sustain, c.KneeFactor)
}

// Analyze derives every target's Analysis from its measurements.
func Analyze(r *Results) {
	for _, t := range r.Targets {
		t.Analysis = analyze(t, r.Profile.Pacing)
	}
}

func analyze(t *Target, pacing time.Duration) *Analysis {
	if pacing <= 0 {
		pacing = time.Second
	}
	a := &Analysis{GeneratorValid: true}
	baseline := 0.0
	if e := t.Find(1); e != nil && e.Stats != nil && e.Stats.Requests > 0 {
		floor := Floor(t.Settings)
		a.Exp1 = &Exp1{AvgMS: e.Stats.AvgMS, MinMS: e.Stats.MinMS, MaxMS: e.Stats.MaxMS, MedianMS: e.Stats.MedianMS,
			RPS: e.Stats.RPS, FloorMS: floor, OverheadMS: e.Stats.MedianMS - floor}
		baseline = e.Stats.MedianMS
	}
	cfg := breakpoint.DefaultConfig(baseline)
	cfg.Pacing = pacing
	a.Rule = RuleText(cfg)
	if e := t.Find(2); e != nil && len(e.History) > 0 {
		if bp, err := breakpoint.Find(Points(e.History), cfg); err == nil {
			a.Breakpoint = &bp
		}
	}
	for _, n := range []int{2, 3, 4} {
		if e := t.Find(n); e != nil {
			w := min(10, max(1, len(e.History)-2)) // short (smoke) runs: a shorter window
			for _, s := range breakpoint.Steps(Points(e.History), w, pacing.Seconds(), cfg.Threshold) {
				a.PeakThroughput = math.Max(a.PeakThroughput, s.Completed)
			}
		}
	}
	predict(a, t, pacing)
	// Little's law: at the breaking point and over experiment 3.
	if bp := a.Breakpoint; bp != nil && bp.At.Completed > 0 {
		a.Little = append(a.Little, Little{Where: "experiment 2 at the breaking point", Users: float64(bp.At.Users),
			Throughput: bp.At.Completed, LatencyMS: bp.At.LatencyMS,
			Predicted: breakpoint.LittleUsers(bp.At.Completed, bp.At.LatencyMS, pacing)})
	}
	if e := t.Find(3); e != nil && e.Stats != nil && e.Stats.Requests > 0 {
		a.Little = append(a.Little, Little{Where: "experiment 3 (whole run)", Users: float64(e.Users),
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
				a.GeneratorFlags = append(a.GeneratorFlags, GeneratorFlag{Experiment: e.Number, Timestamp: tk.Timestamp,
					Users: tk.Users, CPUPercent: tk.CPUPercent, MaxLagMS: tk.MaxLagMS})
				if e.Number == 2 && a.Breakpoint != nil && a.Breakpoint.At.Time > 0 && float64(tk.Timestamp) <= a.Breakpoint.At.Time {
					a.BreakpointGeneratorLimited = true
				}
			}
		}
	}
	if e := t.Find(4); e != nil && e.Stats != nil && e.Intended != nil {
		a.Stress = &Stress{ActualMedianMS: e.Stats.MedianMS, IntendedMedianMS: e.Intended.MedianMS,
			ActualP95MS: e.Stats.P95MS, IntendedP95MS: e.Intended.P95MS, ActualP99MS: e.Stats.P99MS, IntendedP99MS: e.Intended.P99MS}
	}
	a.Internals = summarizeInternals(t)
	return a
}

func predict(a *Analysis, t *Target, pacing time.Duration) {
	s := t.Settings
	if s.Style == "blocking" {
		modelMS := queueing.ServiceModelMS(FeatureFetchMS, s.Scoring.Fanout, meanDelayMS(s.Model), s.Model.CPUCost, s.Scoring.CPUCost)
		a.ModelPrediction = queueing.Blocking(s.Scoring.Workers, modelMS, pacing)
		a.ModelPrediction.Formula += " (E[S] from the model: features + fanout × (delay + model CPU) + scoring CPU)"
		if a.Exp1 != nil {
			a.Prediction = queueing.Blocking(s.Scoring.Workers, a.Exp1.AvgMS, pacing)
			a.Prediction.Formula += " (E[S] = experiment 1's mean)"
		} else {
			a.Prediction = a.ModelPrediction
		}
		return
	}
	a.ModelPrediction = queueing.EventLoop(s.Scoring.Loops, s.Scoring.CPUCost, s.Model.Loops, s.Scoring.Fanout, s.Model.CPUCost, pacing)
	a.Prediction = a.ModelPrediction
	// The loop's measured busy time per request, from the busiest experiment.
	for _, n := range []int{3, 4, 2} {
		e := t.Find(n)
		if e == nil || !e.LoopBusySeconds.Valid() || !e.ServerRequests.Valid() {
			continue
		}
		if c, ok := queueing.MeasuredLoopCPU(float64(e.LoopBusySeconds), float64(e.ServerRequests)); ok && c > 0 {
			p := queueing.EventLoop(s.Scoring.Loops, c, 0, 0, 0, pacing)
			p.Formula += fmt.Sprintf(" (c measured: loop busy time per request in experiment %d)", n)
			a.MeasuredCPUPrediction = &p
			a.MeasuredLoopCPUMS = float64(c) / float64(time.Millisecond)
			break
		}
	}
}

func meanDelayMS(s profile.Service) float64 {
	return float64(s.ModelDelayMin+s.ModelDelayMax) / 2 / float64(time.Millisecond)
}

func summarizeInternals(t *Target) *InternalsSummary {
	for _, n := range []int{3, 4, 2} {
		e := t.Find(n)
		if e == nil || len(e.Internals["scoring"]) == 0 {
			continue
		}
		s := &InternalsSummary{Experiment: n}
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

// Conclusion writes a few plain sentences from the numbers; every claim is
// computed, none is canned.
func Conclusion(r *Results) []string {
	var out []string
	byName := map[string]*Target{}
	for _, t := range r.Targets {
		byName[t.Name] = t
	}
	var parts []string
	for _, t := range r.Targets {
		if a := t.Analysis; a != nil && a.Exp1 != nil {
			parts = append(parts, fmt.Sprintf("%s answered one user in a median of %s (%s above its %s floor)",
				t.Name, fmtMS(a.Exp1.MedianMS), fmtMS(a.Exp1.OverheadMS), fmtMS(a.Exp1.FloorMS)))
		}
	}
	if len(parts) > 0 {
		out = append(out, upper(strings.Join(parts, "; "))+".")
	}
	for _, t := range r.Targets {
		a := t.Analysis
		if a == nil || a.Breakpoint == nil {
			continue
		}
		bp := a.Breakpoint
		var s string
		switch {
		case bp.Reached && bp.Users == 0:
			s = fmt.Sprintf("%s fell behind from the first users of experiment 2 (peak in experiments 2–4: %.1f req/s).", upper(t.Name), a.PeakThroughput)
		case bp.Reached:
			s = fmt.Sprintf("%s kept up with %d users (%.1f req/s completed, median %s), and completed at most %.1f req/s in experiments 2–4.",
				upper(t.Name), bp.Users, bp.At.Completed, fmtMS(bp.MedianMS), a.PeakThroughput)
		default:
			s = fmt.Sprintf("%s kept up through all %d users of experiment 2 (breaking point not reached; peak in experiments 2–4: %.1f req/s).",
				upper(t.Name), bp.MaxUsers, a.PeakThroughput)
		}
		if a.Prediction.Bound && bp.Reached && bp.Users > 0 {
			dev := (float64(bp.Users) - a.Prediction.Users) / a.Prediction.Users * 100
			s += fmt.Sprintf(" The queueing model predicted %.0f users (%s); the measurement is %+.0f%% from it.", a.Prediction.Users, a.Prediction.Formula, dev)
		} else if a.Prediction.Bound && !bp.Reached {
			rel := "consistent with"
			if a.Prediction.Users < float64(bp.MaxUsers) {
				rel = "not consistent with"
			}
			s += fmt.Sprintf(" The queueing model predicted %.0f users, %s that.", a.Prediction.Users, rel)
		} else if !a.Prediction.Bound {
			s += " The queueing model sees no CPU limit in range (" + a.Prediction.Formula + ")."
		}
		if bp.KneeReached && bp.Reached && bp.KneeUsers < bp.Users {
			s += fmt.Sprintf(" Latency doubled earlier, at %d users (%.0f%% of the breaking point): users spawned in one-second batches keep their phase under constant_pacing(1), so each second's requests arrive as bursts and queue before the average load reaches capacity.",
				bp.KneeUsers, float64(bp.KneeUsers)/float64(bp.Users)*100)
		} else if bp.KneeReached {
			s += fmt.Sprintf(" Latency passed twice experiment 1's median at %d users.", bp.KneeUsers)
		}
		out = append(out, s)
	}
	if s, a := byName["sync"], byName["async"]; s != nil && a != nil && s.Analysis != nil && a.Analysis != nil &&
		s.Analysis.PeakThroughput > 0 && a.Analysis.PeakThroughput > 0 {
		ratio := a.Analysis.PeakThroughput / s.Analysis.PeakThroughput
		word := "more"
		if ratio < 1 {
			word = "less"
		}
		// A target that never fell behind only shows a lower bound.
		bound := ""
		hi := a
		if ratio < 1 {
			hi = s
		}
		if bp := hi.Analysis.Breakpoint; bp != nil && !bp.Reached {
			bound = "at least "
		}
		out = append(out, fmt.Sprintf("At its peak the event loop completed %s%.2f× the blocking server's throughput (%.1f vs %.1f req/s, best 10 s): %s capacity from the same machine.",
			bound, ratio, a.Analysis.PeakThroughput, s.Analysis.PeakThroughput, word))
	}
	var gaps []string
	for _, t := range r.Targets {
		if a := t.Analysis; a != nil && a.Stress != nil && a.Stress.IntendedMedianMS > 0 {
			gaps = append(gaps, fmt.Sprintf("%s median %s measured from the actual send, %s from the intended send",
				t.Name, fmtMS(a.Stress.ActualMedianMS), fmtMS(a.Stress.IntendedMedianMS)))
		}
	}
	if len(gaps) > 0 {
		out = append(out, "In the stress test: "+strings.Join(gaps, "; ")+".")
	}
	flags, invalid := 0, 0
	for _, t := range r.Targets {
		if t.Analysis != nil {
			flags += len(t.Analysis.GeneratorFlags)
		}
		for _, e := range t.Experiments {
			if e.SelfCheck != nil && !e.SelfCheck.Valid {
				invalid++
			}
		}
	}
	switch {
	case invalid == 0 && flags == 0:
		out = append(out, "The load generator's self-check found no second where it was the limit.")
	case invalid == 0:
		out = append(out, fmt.Sprintf("The load generator's self-check judged every run valid (no run had more than %d%% of its requests over %d ms late, or CPU ≥ %.0f%%); %d single second(s) were flagged (see Load generator validity).",
			loadgenjson.LatePercent, loadgenjson.LateMS, GeneratorCPUPercent, flags))
	default:
		out = append(out, fmt.Sprintf("The load generator's self-check judged %d experiment run(s) not valid and flagged %d second(s) (CPU ≥ %.0f%%, or more than %d%% of a second's requests over %d ms late); numbers from those runs may understate the servers (see Load generator validity).",
			invalid, flags, GeneratorCPUPercent, loadgenjson.LatePercent, loadgenjson.LateMS))
	}
	return out
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

func fmtMS(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sortedTargets returns targets in the order sync, async, others.
func sortedTargets(ts []*Target) []*Target {
	out := append([]*Target(nil), ts...)
	rank := map[string]int{"sync": 0, "async": 1}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Name] < rank[out[j].Name] })
	return out
}
