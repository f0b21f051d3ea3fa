package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"predictlab/lab/internal/jsonnum"
)

// Markdown renders summary.md. It reads r.Targets[i].Analysis, so call
// Analyze first.
func Markdown(r *Results) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# predictlab — lab report\n\n")
	w("Profile **%s** (%s). Status: **%s**", r.Profile.Name, r.Profile.Summary, r.Status)
	if r.Error != "" {
		w(" — %s", r.Error)
	}
	w(".\n")
	w("Run from %s to %s (%s).\n\n", r.Started.UTC().Format(time.RFC3339), r.Ended.UTC().Format(time.RFC3339), r.Ended.Sub(r.Started).Round(time.Second))
	targets := sortedTargets(r.Targets)

	w("## Conclusion\n\n")
	for _, s := range Conclusion(r) {
		w("- %s\n", s)
	}
	w("\n")

	w("## Experiment 1 — response time at one user\n\n")
	w("| target | avg | min | max | median | req/s | floor (model delays) | overhead above floor |\n|---|---|---|---|---|---|---|---|\n")
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Exp1 != nil {
			e := a.Exp1
			w("| %s | %s | %s | %s | %s | %.2f | %s | %s |\n", t.Name, fmtMS(e.AvgMS), fmtMS(e.MinMS), fmtMS(e.MaxMS), fmtMS(e.MedianMS), e.RPS, fmtMS(e.FloorMS), fmtMS(e.OverheadMS))
		} else {
			w("| %s | — | — | — | — | — | — | — |\n", t.Name)
		}
	}
	w("\nThe floors are set by the model delay U(40 ms, 50 ms): the blocking handler makes its two model calls one after the other (median of the sum: 90 ms); the event loop makes them at once (median of the max: 47.1 ms).\n\n")

	w("## Breaking points (experiment 2)\n\n")
	if len(targets) > 0 && targets[0].Analysis != nil {
		w("Rule: %s\n\n", targets[0].Analysis.Rule)
	}
	w("| target | breaking point | median there | completed there | latency knee | peak throughput (best 10 s of exps 2–4) | predicted capacity | prediction |\n|---|---|---|---|---|---|---|---|\n")
	for _, t := range targets {
		a := t.Analysis
		if a == nil || a.Breakpoint == nil {
			w("| %s | — (experiment 2 not run) | | | | | %s | %s |\n", t.Name, predUsers(a), predFormula(a))
			continue
		}
		bp := a.Breakpoint
		bpText := fmt.Sprintf("%d users", bp.Users)
		if !bp.Reached {
			bpText = fmt.Sprintf("not reached within %d users", bp.MaxUsers)
		}
		if a.BreakpointGeneratorLimited {
			bpText += " (the self-check flagged seconds before it; see Load generator validity)"
		}
		knee := "not reached"
		if bp.KneeReached {
			knee = fmt.Sprintf("%d users (%s > %s)", bp.KneeUsers, fmtMS(bp.KneeLatencyMS), fmtMS(bp.KneeLimitMS))
			if bp.KneeByMedianUsers > 0 {
				knee += fmt.Sprintf("; by the 10 s median: %d users", bp.KneeByMedianUsers)
			}
		}
		median, done := "—", "—"
		if bp.At.Completed > 0 {
			median = fmtMS(bp.MedianMS) + " (" + bp.MedianKind + ")"
			done = fmt.Sprintf("%.1f of %.1f req/s offered", bp.At.Completed, bp.At.Offered)
		}
		w("| %s | %s | %s | %s | %s | %.1f req/s | %s | %s |\n", t.Name, bpText, median, done, knee, a.PeakThroughput, predUsers(a), predFormula(a))
	}
	w("\n")
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.MeasuredCPUPrediction != nil {
			w("Measured on the %s loop: %.2f ms of loop time per request → %s (%.0f users).\n\n", t.Name, a.MeasuredLoopCPUMS, a.MeasuredCPUPrediction.Formula, a.MeasuredCPUPrediction.Users)
		}
		if a := t.Analysis; a != nil && a.ModelPrediction.Formula != a.Prediction.Formula {
			w("Model-only prediction for %s: %s.\n\n", t.Name, a.ModelPrediction.Formula)
		}
	}
	w("Why the latency knee comes before the breaking point: users spawned in one-second batches keep their phase under `constant_pacing(1)`, so each second's requests arrive as one burst; a burst larger than the free workers (or the loop's spare time) waits, so queueing starts at a third to a half of capacity even though the average load is below it.\n\n")

	w("### Little's law cross-check (users ≈ req/s × (latency + think time))\n\n")
	w("| target | where | users | req/s | latency | users predicted |\n|---|---|---|---|---|---|\n")
	for _, t := range targets {
		if t.Analysis == nil {
			continue
		}
		for _, l := range t.Analysis.Little {
			w("| %s | %s | %.0f | %.1f | %s | %.1f |\n", t.Name, l.Where, l.Users, l.Throughput, fmtMS(l.LatencyMS), l.Predicted)
		}
	}
	w("\n")

	w("## Experiments 1–4 (whole-run totals)\n\n")
	w("| experiment | target | users | spawn rate | run time | requests | failures | avg | median | p95 | p99 | req/s | machine load |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for n := 1; n <= 4; n++ {
		for _, t := range targets {
			e := t.Find(n)
			if e == nil {
				continue
			}
			if e.Stats == nil {
				w("| %d %s | %s | %d | %g | %s | — | — | — | — | — | — | — | %s |\n", n, e.Name, t.Name, e.Users, e.SpawnRate, e.RunTime, fmtN(e.LoadAvg, 1))
				continue
			}
			s := e.Stats
			w("| %d %s | %s | %d (%s) | %g | %s | %d | %d | %s | %s | %s | %s | %.1f | %s |\n", n, e.Name, t.Name, e.Users, e.UsersFrom, e.SpawnRate, e.RunTime,
				s.Requests, s.Failures, fmtMS(s.AvgMS), fmtMS(s.MedianMS), fmtF(s.P95MS), fmtF(s.P99MS), s.RPS, fmtN(e.LoadAvg, 1))
		}
	}
	w("\n")

	w("## Stress test: latency from the intended send vs the actual send\n\n")
	w("| target | median actual | median intended | p95 actual | p95 intended | p99 actual | p99 intended |\n|---|---|---|---|---|---|---|\n")
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Stress != nil {
			s := a.Stress
			w("| %s | %s | %s | %s | %s | %s | %s |\n", t.Name, fmtMS(s.ActualMedianMS), fmtMS(s.IntendedMedianMS), fmtF(s.ActualP95MS), fmtF(s.IntendedP95MS), fmtF(s.ActualP99MS), fmtF(s.IntendedP99MS))
		}
	}
	w("\nA user whose previous request is still waiting cannot send the next one on time; measuring from the intended send time counts that wait (coordinated omission).\n\n")

	w("## Server internals\n\n")
	w("| target | experiment | mean workers busy | max queue length | mean loop busy | mean loop lag |\n|---|---|---|---|---|---|\n")
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Internals != nil {
			s := a.Internals
			w("| %s | %d | %s | %s | %s | %s |\n", t.Name, s.Experiment, fmtN(s.MeanWorkersBusy, 1), fmtN(s.MaxQueueLength, 0), fmtPct(s.MeanLoopBusy), fmtF(s.MeanLoopLagMS))
		}
	}
	w("\nWorkers busy and queue length are gauges read once per second; the users send in one-second bursts, so each reading sees the same phase of the burst cycle. The loop busy ratio and lag are averages over the second and do not have that bias.\n\n")

	w("## Load generator and machine validity\n\n")
	var busy []string
	for _, t := range targets {
		for _, e := range t.Experiments {
			if e.LoadAvg.Valid() && r.Env.CPUs > 0 && float64(e.LoadAvg) > float64(r.Env.CPUs) {
				busy = append(busy, fmt.Sprintf("%s %d (%.1f)", t.Name, e.Number, float64(e.LoadAvg)))
			}
		}
	}
	if len(busy) > 0 {
		w("- The machine's 1-minute load average exceeded its %d CPUs at the end of: %s. Other work competed with the services and the generator for CPU, so those numbers are lower bounds on what this machine can do.\n", r.Env.CPUs, strings.Join(busy, ", "))
	}
	for _, t := range targets {
		a := t.Analysis
		if a == nil {
			continue
		}
		verdict := "valid"
		if !a.GeneratorValid {
			verdict = "NOT valid in at least one experiment"
		}
		w("- %s: self-check %s; %d flagged second(s)", t.Name, verdict, len(a.GeneratorFlags))
		if a.BreakpointGeneratorLimited {
			w(", some at or before the breaking point")
		}
		w(".\n")
		for _, e := range t.Experiments {
			if e.SelfCheck != nil { // loadgen's own verdict line, with its figures
				w("  - experiment %d: %s\n", e.Number, strings.TrimPrefix(e.SelfCheck.Summary(), "Self-check: "))
			}
		}
	}
	w("\n")

	if ref := r.Profile.Reference; ref != nil {
		w("## How close the seed profile comes to the Python original\n\n")
		w("Reference: %s.\n\n", ref.Source)
		w("| | Python original | this run |\n|---|---|---|\n")
		for _, t := range targets {
			a := t.Analysis
			if a == nil {
				continue
			}
			med, capLo, capHi, kLo, kHi := ref.SyncMedianMS, ref.SyncCapacityLo, ref.SyncCapacityHi, ref.SyncKneeLo, ref.SyncKneeHi
			if t.Name == "async" {
				med, capLo, capHi, kLo, kHi = ref.AsyncMedianMS, ref.AsyncCapacityLo, ref.AsyncCapacityHi, ref.AsyncKneeLo, ref.AsyncKneeHi
			}
			m := "—"
			if a.Exp1 != nil {
				m = fmtMS(a.Exp1.MedianMS)
			}
			w("| %s 1-user median | %s | %s |\n", t.Name, fmtMS(med), m)
			w("| %s capacity | %.0f–%.0f req/s | %.1f req/s (peak) |\n", t.Name, capLo, capHi, a.PeakThroughput)
			bp := "—"
			if a.Breakpoint != nil {
				bp = fmt.Sprintf("%d users", a.Breakpoint.Users)
				if !a.Breakpoint.Reached {
					bp = "not reached within " + bp
				}
			}
			w("| %s throughput knee (breaking point) | %.0f–%.0f users | %s |\n", t.Name, kLo, kHi, bp)
		}
		w("\nThe seed's 2021 laptop read ~%.0f (sync) and ~%.0f (async) users.\n\n", ref.SeedLaptopSyncBP, ref.SeedLaptopAsyBP)
	}

	w("## Environment\n\n")
	e := r.Env
	w("- CPU: %s × %d\n- OS: %s (kernel %s, %s)\n- Go: %s\n- git commit: %s\n- lab build: %s\n\n", e.CPUModel, e.CPUs, e.OS, e.Kernel, e.Arch, e.GoVersion, e.GitCommit, e.LabBuild)

	w("## Settings\n\n")
	st := r.Settings
	w("- pacing: constant_pacing(%s); stop grace %s; health timeout %s\n", r.Profile.Pacing, r.Profile.StopGrace, r.Profile.HealthTimeout)
	w("- loadgen: `%s` (--html %v, --csv-full-history %v)\n", st.LoadgenBin, st.LoadgenHTML, st.LoadgenFullHistory)
	if st.External {
		w("- external targets: sync %s, async %s (not started by the lab; the target settings below are the profile's and the predictions assume them)\n", st.SyncURL, st.AsyncURL)
	} else {
		w("- targets: `%s`, bound to %s\n", st.TargetsBin, st.Bind)
	}
	for _, t := range targets {
		s := t.Settings
		w("- %s (%s): %s/%s; scoring workers %d, backlog %d, loops %d, fanout %d, CPU cost %s; model workers %d, loops %d, CPU cost %s, delay %s\n",
			t.Name, t.URL, s.Style, s.Framework, s.Scoring.Workers, s.Scoring.Backlog, s.Scoring.Loops, s.Scoring.Fanout, s.Scoring.CPUCost,
			s.Model.Workers, s.Model.Loops, s.Model.CPUCost, s.Model.DelayRange())
	}
	for _, c := range st.Services {
		w("- started `%s`\n", strings.Join(c.Args, " "))
	}
	for _, t := range targets {
		for _, e := range t.Experiments {
			w("- experiment %d %s: `%s`\n", e.Number, t.Name, strings.Join(e.Command, " "))
		}
	}
	w("\n")
	w("## Files\n\n")
	w("Per experiment and target (`<experiment>_<sync|async>`): `_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_exceptions.csv`, `_intended.csv`, `.json` (loadgen --json)")
	if st.LoadgenHTML {
		w(", `.html` (loadgen's report)")
	}
	w(". Charts: `load_test.png`, `max_performance.png`, `stress_test.png` and `*_internals.png`; `results.json` holds every number above; `index.html` is this report with the charts inline.\n")
	return b.String()
}

func predUsers(a *Analysis) string {
	if a == nil || !a.Prediction.Bound {
		return "not CPU-bound in range"
	}
	return fmt.Sprintf("%.1f req/s ≈ %.0f users", a.Prediction.Capacity, a.Prediction.Users)
}

func predFormula(a *Analysis) string {
	if a == nil {
		return ""
	}
	return a.Prediction.Formula
}

func fmtF(v jsonnum.Float) string {
	if !v.Valid() {
		return "n/a"
	}
	return fmtMS(float64(v))
}

func fmtN(v jsonnum.Float, prec int) string {
	if !v.Valid() {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, float64(v))
}

func fmtPct(v jsonnum.Float) string {
	if !v.Valid() {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", math.Round(float64(v)*100))
}
