package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/analysis"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/results"
)

// buildDoc lays out the report, one function per section. It reads
// r.Targets[i].Analysis, so analyse r first.
func buildDoc(r *results.Results) doc {
	targets := sortedTargets(r.Targets)
	ss := []section{
		titleSection(r),
		conclusionSection(r),
		exp1Section(targets),
		breakpointSection(targets),
		exp3Section(targets),
		littleSection(targets),
		totalsSection(targets),
		stressSection(targets),
		internalsSection(targets),
		validitySection(r, targets),
	}
	if r.Profile.Reference != nil {
		ss = append(ss, referenceSection(r, targets))
	}
	ss = append(ss, environmentSection(r), settingsSection(r, targets), filesSection(r))
	return doc{Sections: ss}
}

func titleSection(r *results.Results) section {
	status := inline("Profile ", bold(r.Profile.Name), " ("+r.Profile.Summary+"). Status: ", bold(r.Status))
	if r.Error != "" {
		status = append(status, span{Text: " — " + r.Error})
	}
	status = append(status, span{Text: "."})
	run := fmt.Sprintf("Run from %s to %s (%s).", r.Started.UTC().Format(time.RFC3339), r.Ended.UTC().Format(time.RFC3339),
		r.Ended.Sub(r.Started).Round(time.Second))
	return section{Level: 1, Title: "predictlab — lab report", Blocks: []block{{Lines: []text{status, inline(run)}}}}
}

func conclusionSection(r *results.Results) section {
	l := block{List: true}
	for _, s := range Conclusion(r) {
		l.Items = append(l.Items, item{Text: inline(s)})
	}
	return section{Level: 2, Title: "Conclusion", Blocks: []block{l}}
}

func exp1Section(targets []*results.Target) section {
	tb := &table{Head: []string{"target", "avg", "min", "max", "median", "req/s", "floor (model delays)", "overhead above floor"}}
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Exp1 != nil {
			e := a.Exp1
			tb.Rows = append(tb.Rows, []string{t.Name, fmtMS(e.AvgMS), fmtMS(e.MinMS), fmtMS(e.MaxMS), fmtMS(e.MedianMS),
				fmt.Sprintf("%.2f", e.RPS), fmtMS(e.FloorMS), fmtMS(e.OverheadMS)})
		} else {
			tb.Rows = append(tb.Rows, []string{t.Name, "—", "—", "—", "—", "—", "—", "—"})
		}
	}
	return section{Level: 2, Title: "Experiment 1 — response time at one user", Blocks: []block{{Table: tb},
		para("The floors are set by the model delay U(40 ms, 50 ms): the blocking handler makes its two model calls one after the other (median of the sum: 90 ms); the event loop makes them at once (median of the max: 47.1 ms).")}}
}

func breakpointSection(targets []*results.Target) section {
	s := section{Level: 2, Title: "Breaking points (experiment 2)"}
	if len(targets) > 0 && targets[0].Analysis != nil {
		s.Blocks = append(s.Blocks, para("Rule: "+targets[0].Analysis.Rule))
		s.Blocks = append(s.Blocks, para(fmt.Sprintf("The throughput rule decides the breaking point (and experiment 3's users). Beside it, a target is called saturated once a window's mean latency reaches %.0f%% of the pacing interval: under constant pacing the users then wait less between requests, so the offered rate holds while the queue grows; the experiment 2 chart marks that point.",
			analysis.SaturationShare*100)))
	}
	tb := &table{Head: []string{"target", "breaking point", "median there", "completed there", "latency knee",
		"peak throughput (best 10 s of exps 2–4)", "predicted capacity", "prediction"}}
	for _, t := range targets {
		a := t.Analysis
		if a == nil || a.Breakpoint == nil {
			why := "— (experiment 2 not run)"
			if e := t.Find(2); e != nil && e.Failed != "" {
				why = "— (experiment 2 failed)"
			}
			tb.Rows = append(tb.Rows, []string{t.Name, why, "", "", "", "", predUsers(a), predFormula(a)})
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
			if bp.At.Completed > bp.At.Offered {
				// The window counts completions of requests sent before it
				// (its users are shifted back by the mean latency), so under
				// a ramp it can complete more than its users offered.
				done = fmt.Sprintf("%.1f req/s, all %.1f offered (the window also completed requests sent before it)", bp.At.Completed, bp.At.Offered)
			}
		}
		tb.Rows = append(tb.Rows, []string{t.Name, bpText, median, done, knee, fmt.Sprintf("%.1f req/s", a.PeakThroughput), predUsers(a), predFormula(a)})
	}
	s.Blocks = append(s.Blocks, block{Table: tb})
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.MeasuredCPUPrediction != nil {
			s.Blocks = append(s.Blocks, para(fmt.Sprintf("Measured on the %s loop: %.2f ms of loop time per request → %s (%.0f users).",
				t.Name, a.MeasuredLoopCPUMS, a.MeasuredCPUPrediction.Formula, a.MeasuredCPUPrediction.Users)))
		}
		if a := t.Analysis; a != nil && a.ModelPrediction.Formula != a.Prediction.Formula {
			s.Blocks = append(s.Blocks, para(fmt.Sprintf("Model-only prediction for %s: %s.", t.Name, a.ModelPrediction.Formula)))
		}
	}
	s.Blocks = append(s.Blocks, block{Lines: []text{inline("Why the latency knee comes before the breaking point: users spawned in one-second batches keep their phase under ",
		code("constant_pacing(1)"), ", so each second's requests arrive as one burst; a burst larger than the free workers (or the loop's spare time) waits, so queueing starts at a third to a half of capacity even though the average load is below it.")}})
	return s
}

func exp3Section(targets []*results.Target) section {
	tb := &table{Head: []string{"target", "users", "predicted users", "completed/s, 1st → 2nd half", "latency, 1st → 2nd half", "stable", "burst queue wait"}}
	var notes []string
	bounds := ""
	for _, t := range targets {
		a := t.Analysis
		if a == nil || a.Exp3 == nil {
			continue
		}
		c := a.Exp3
		bounds = c.Bounds
		pred := "no bound"
		if c.PredictedUsers > 0 {
			pred = fmt.Sprintf("%.0f", c.PredictedUsers)
		}
		verdict := "no"
		if c.Stable {
			verdict = "yes"
		}
		if c.FirstRPS == 0 && c.SecondRPS == 0 {
			verdict = "— (too short to split)"
		}
		tb.Rows = append(tb.Rows, []string{t.Name, fmt.Sprint(c.Users), pred, fmt.Sprintf("%.1f → %.1f", c.FirstRPS, c.SecondRPS),
			fmtMS(c.FirstMS) + " → " + fmtMS(c.SecondMS) + " (" + c.LatencyKind + ")", verdict, fmtMS(c.BurstWaitMS) + " (" + c.BurstWhy + ")"})
		if c.AbovePrediction {
			notes = append(notes, fmt.Sprintf("%s ran experiment 3 at %d users, above the %.0f users the queueing model predicts it can serve: expect a queue that grows, not a steady state.",
				upper(t.Name), c.Users, c.PredictedUsers))
		}
	}
	if len(tb.Rows) == 0 {
		return section{Level: 2, Title: "Experiment 3 — at the breaking point", Blocks: []block{para("Experiment 3 did not run (or ran too briefly to check).")}}
	}
	bl := []block{para("Rule: " + bounds + ", comparing the run's two halves once every user has started."), {Table: tb}}
	for _, n := range notes {
		bl = append(bl, para(n))
	}
	bl = append(bl, para("Why latency here is above experiment 1's even below capacity: experiment 3 starts every user at once, and under constant_pacing(1) they keep that phase, so every second all of them send together. A server that holds each request for h and serves m at a time (W workers for E[S]; L loops for the CPU c) starts the k-th request of a burst after ⌊k/m⌋ × h, so the mean request waits the burst queue wait above before its own service starts, on top of the one-user latency — even when the average load is below capacity."))
	return section{Level: 2, Title: "Experiment 3 — at the breaking point", Blocks: bl}
}

func littleSection(targets []*results.Target) section {
	tb := &table{Head: []string{"target", "where", "users (server side: requests in it)", "req/s", "latency (server side: server time)", "predicted"}}
	for _, t := range targets {
		if t.Analysis == nil {
			continue
		}
		for _, l := range t.Analysis.Little {
			tb.Rows = append(tb.Rows, []string{t.Name, l.Where, fmt.Sprintf("%.0f", l.Users), fmt.Sprintf("%.1f", l.Throughput), fmtMS(l.LatencyMS), fmt.Sprintf("%.1f", l.Predicted)})
		}
	}
	return section{Level: 3, Title: "Little's law cross-check (users ≈ req/s × (latency + think time))", Blocks: []block{{Table: tb},
		para("Client side, under constant pacing, the check restates req/s (each user sends once per interval). Server side it is a real check: requests in the scoring service (its in-flight gauge) against req/s × the server's own time per request (arrival to answer, from /metrics). A gauge read once a second sees the same phase of the users' one-second bursts, so a reading far below the prediction says the burst had drained by then, not that the law fails.")}}
}

func totalsSection(targets []*results.Target) section {
	tb := &table{Head: []string{"experiment", "target", "users", "spawn rate", "run time", "requests", "failures", "avg", "median", "p95", "p99", "req/s", "machine load"}}
	for n := 1; n <= 4; n++ {
		for _, t := range targets {
			e := t.Find(n)
			if e == nil {
				continue
			}
			exp, rate := fmt.Sprintf("%d %s", n, e.Name), fmt.Sprintf("%g", e.SpawnRate)
			if e.Stats == nil {
				tb.Rows = append(tb.Rows, []string{exp, t.Name, fmt.Sprint(e.Users), rate, e.RunTime.String(), "—", "—", "—", "—", "—", "—", "—", fmtN(e.LoadAvg, 1)})
				continue
			}
			s := e.Stats
			tb.Rows = append(tb.Rows, []string{exp, t.Name, fmt.Sprintf("%d (%s)", e.Users, e.UsersFrom), rate, e.RunTime.String(),
				fmt.Sprint(s.Requests), fmt.Sprint(s.Failures), fmtMS(s.AvgMS), fmtMS(s.MedianMS), fmtF(s.P95MS), fmtF(s.P99MS), fmt.Sprintf("%.1f", s.RPS), fmtN(e.LoadAvg, 1)})
		}
	}
	return section{Level: 2, Title: "Experiments 1–4 (whole-run totals)", ID: "totals", Blocks: []block{{Table: tb}}}
}

func stressSection(targets []*results.Target) section {
	tb := &table{Head: []string{"target", "median actual", "median intended", "p95 actual", "p95 intended", "p99 actual", "p99 intended"}}
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Stress != nil {
			s := a.Stress
			tb.Rows = append(tb.Rows, []string{t.Name, fmtMS(s.ActualMedianMS), fmtMS(s.IntendedMedianMS), fmtF(s.ActualP95MS), fmtF(s.IntendedP95MS), fmtF(s.ActualP99MS), fmtF(s.IntendedP99MS)})
		}
	}
	return section{Level: 2, Title: "Stress test: latency from the intended send vs the actual send", Blocks: []block{{Table: tb},
		para("A user whose previous request is still waiting cannot send the next one on time; measuring from the intended send time counts that wait (coordinated omission).")}}
}

func internalsSection(targets []*results.Target) section {
	tb := &table{Head: []string{"target", "experiment", "mean workers busy", "max queue length", "mean loop busy", "mean loop lag"}}
	for _, t := range targets {
		if a := t.Analysis; a != nil && a.Internals != nil {
			s := a.Internals
			tb.Rows = append(tb.Rows, []string{t.Name, fmt.Sprint(s.Experiment), fmtN(s.MeanWorkersBusy, 1), fmtN(s.MaxQueueLength, 0), fmtPct(s.MeanLoopBusy), fmtF(s.MeanLoopLagMS)})
		}
	}
	if len(tb.Rows) == 0 {
		return section{Level: 2, Title: "Server internals", Blocks: []block{
			para("None: the services exposed no predictlab metrics on /metrics (or none was scraped), so the report cannot show workers, queues or loops.")}}
	}
	return section{Level: 2, Title: "Server internals", Blocks: []block{{Table: tb},
		para("Workers busy and queue length are gauges read once per second; the users send in one-second bursts, so each reading sees the same phase of the burst cycle. The loop busy ratio and lag are averages over the second and do not have that bias.")}}
}

func validitySection(r *results.Results, targets []*results.Target) section {
	l := block{List: true}
	var busy []string
	for _, t := range targets {
		for _, e := range t.Experiments {
			if e.LoadAvg.Valid() && r.Env.CPUs > 0 && float64(e.LoadAvg) > float64(r.Env.CPUs) {
				busy = append(busy, fmt.Sprintf("%s %d (%.1f)", t.Name, e.Number, float64(e.LoadAvg)))
			}
		}
	}
	for _, t := range targets {
		for _, e := range t.Experiments {
			if s := startNote(t, e); s != "" {
				l.Items = append(l.Items, item{Text: inline(s)})
			}
		}
	}
	if len(busy) > 0 {
		l.Items = append(l.Items, item{Text: inline(fmt.Sprintf("The machine's 1-minute load average exceeded its %d CPUs at the end of: %s. Other work competed with the services and the generator for CPU, so those numbers are lower bounds on what this machine can do.",
			r.Env.CPUs, strings.Join(busy, ", ")))})
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
		s := fmt.Sprintf("%s: self-check %s; %d flagged second(s)", t.Name, verdict, len(a.GeneratorFlags))
		if a.BreakpointGeneratorLimited {
			s += ", some at or before the breaking point"
		}
		it := item{Text: inline(s + ".")}
		for _, e := range t.Experiments {
			if e.SelfCheck != nil { // loadgen's own verdict line, with its figures
				it.Sub = append(it.Sub, inline(fmt.Sprintf("experiment %d: %s", e.Number, strings.TrimPrefix(e.SelfCheck.Summary(), "Self-check: "))))
			}
		}
		l.Items = append(l.Items, it)
	}
	return section{Level: 2, Title: "Load generator and machine validity", Blocks: []block{l}}
}

// startNote mentions an experiment whose target was not idle at once: a
// wait over a second, or a start on a target still busy.
func startNote(t *results.Target, e *results.Experiment) string {
	st := e.StartState
	if st == nil || (st.WaitedMS <= 1000 && !st.TimedOut) {
		return ""
	}
	waited := (time.Duration(st.WaitedMS) * time.Millisecond).Round(100 * time.Millisecond)
	switch {
	case st.TimedOut && st.ProbeMS != nil:
		return fmt.Sprintf("%s experiment %d started after %s although its probe request still took %s: the target was still busy.", t.Name, e.Number, waited, fmtMS(*st.ProbeMS))
	case st.TimedOut:
		return fmt.Sprintf("%s experiment %d started after %s with %s request(s) still in flight on the scoring service: its first seconds include work left from before.", t.Name, e.Number, waited, fmtN(st.Inflight, 0))
	case st.ProbeMS != nil:
		return fmt.Sprintf("%s experiment %d waited %s until a probe request answered in time (%s): the target was still busy from before.", t.Name, e.Number, waited, fmtMS(*st.ProbeMS))
	}
	return fmt.Sprintf("%s experiment %d waited %s for the scoring service to finish the requests left in flight before it.", t.Name, e.Number, waited)
}

func referenceSection(r *results.Results, targets []*results.Target) section {
	ref := r.Profile.Reference
	tb := &table{Head: []string{"", "Python original", "this run"}}
	for _, t := range targets {
		a := t.Analysis
		if a == nil {
			continue
		}
		med, capLo, capHi, kLo, kHi := ref.SyncMedianMS, ref.SyncCapacityLo, ref.SyncCapacityHi, ref.SyncKneeLo, ref.SyncKneeHi
		if targetsapi.Target(t.Name) == targetsapi.Async {
			med, capLo, capHi, kLo, kHi = ref.AsyncMedianMS, ref.AsyncCapacityLo, ref.AsyncCapacityHi, ref.AsyncKneeLo, ref.AsyncKneeHi
		}
		m := "—"
		if a.Exp1 != nil {
			m = fmtMS(a.Exp1.MedianMS)
		}
		bp := "—"
		if a.Breakpoint != nil {
			bp = fmt.Sprintf("%d users", a.Breakpoint.Users)
			if !a.Breakpoint.Reached {
				bp = "not reached within " + bp
			}
		}
		tb.Rows = append(tb.Rows,
			[]string{t.Name + " 1-user median", fmtMS(med), m},
			[]string{t.Name + " capacity", fmt.Sprintf("%.0f–%.0f req/s", capLo, capHi), fmt.Sprintf("%.1f req/s (peak)", a.PeakThroughput)},
			[]string{t.Name + " throughput knee (breaking point)", fmt.Sprintf("%.0f–%.0f users", kLo, kHi), bp})
	}
	return section{Level: 2, Title: "How close the seed profile comes to the Python original", Blocks: []block{
		para("Reference: " + ref.Source + "."),
		{Table: tb},
		para(fmt.Sprintf("The seed's 2021 laptop read ~%.0f (sync) and ~%.0f (async) users.", ref.SeedLaptopSyncBP, ref.SeedLaptopAsyBP)),
	}}
}

func environmentSection(r *results.Results) section {
	e := r.Env
	l := block{List: true, Items: []item{
		{Text: inline(fmt.Sprintf("CPU: %s × %d", e.CPUModel, e.CPUs))},
		{Text: inline(fmt.Sprintf("OS: %s (kernel %s, %s)", e.OS, e.Kernel, e.Arch))},
		{Text: inline("Go: " + e.GoVersion)},
		{Text: inline("git commit: " + e.GitCommit)},
		{Text: inline("lab build: " + e.LabBuild)},
	}}
	return section{Level: 2, Title: "Environment", Blocks: []block{l}}
}

func settingsSection(r *results.Results, targets []*results.Target) section {
	st := r.Settings
	l := block{List: true}
	add := func(parts ...any) { l.Items = append(l.Items, item{Text: inline(parts...)}) }
	add(fmt.Sprintf("pacing: constant_pacing(%s); stop grace %s; health timeout %s", r.Profile.Pacing, r.Profile.StopGrace, r.Profile.HealthTimeout))
	add("loadgen: ", code(st.LoadgenBin), fmt.Sprintf(" (--html %v, --csv-full-history %v)", st.LoadgenHTML, st.LoadgenFullHistory))
	if st.External {
		add(fmt.Sprintf("external targets: sync %s, async %s (not started by the lab; the target settings below are the profile's and the predictions assume them)", st.SyncURL, st.AsyncURL))
	} else {
		add("targets: ", code(st.TargetsBin), ", bound to "+st.Bind)
	}
	for _, t := range targets {
		s := t.Settings
		add(fmt.Sprintf("%s (%s): %s/%s; scoring workers %d, backlog %d, loops %d, fanout %d, CPU cost %s; model workers %d, loops %d, CPU cost %s, delay %s",
			t.Name, t.URL, s.Style, s.Framework, s.Scoring.Workers, s.Scoring.Backlog, s.Scoring.Loops, s.Scoring.Fanout, s.Scoring.CPUCost,
			s.Model.Workers, s.Model.Loops, s.Model.CPUCost, s.Model.DelayRange()))
	}
	for _, c := range st.Services {
		add("started ", code(strings.Join(c.Args, " ")))
	}
	for _, t := range targets {
		for _, e := range t.Experiments {
			add(fmt.Sprintf("experiment %d %s: ", e.Number, t.Name), code(strings.Join(e.Command, " ")))
		}
	}
	return section{Level: 2, Title: "Settings", Blocks: []block{l}}
}

func filesSection(r *results.Results) section {
	t := inline("Per experiment and target (", code("<experiment>_<sync|async>"), "): ", code("_stats.csv"), ", ", code("_stats_history.csv"), ", ",
		code("_failures.csv"), ", ", code("_exceptions.csv"), ", ", code("_intended.csv"), ", ", code(".json"), " (loadgen --json)")
	if r.Settings.LoadgenHTML {
		t = append(t, inline(", ", code(".html"), " (loadgen's report)")...)
	}
	t = append(t, inline(". Charts: ", code("load_test_throughput.png"), ", ", code("load_test.png"), ", ", code("max_performance.png"), ", ", code("stress_test.png"), " and ", code("*_internals.png"),
		"; ", code("results.json"), " holds every number above; ", code("index.html"), " is this report with the charts inline.")...)
	blocks := []block{{Lines: []text{t}}}
	if r.Settings.LoadgenHTML {
		// One link per run to loadgen's own HTML report, beside this one.
		l := block{List: true}
		for _, tg := range sortedTargets(r.Targets) {
			var links text
			for _, e := range tg.Experiments {
				if e.Stats == nil || e.File == "" {
					continue
				}
				if len(links) > 0 {
					links = append(links, span{Text: ", "})
				}
				links = append(links, link(fmt.Sprintf("%d %s", e.Number, e.Name), e.File+".html"))
			}
			if len(links) > 0 {
				l.Items = append(l.Items, item{Text: append(inline(tg.Name+" — loadgen's reports: "), links...)})
			}
		}
		if len(l.Items) > 0 {
			blocks = append(blocks, l)
		}
	}
	return section{Level: 2, Title: "Files", Blocks: blocks}
}

func predUsers(a *results.Analysis) string {
	if a == nil || !a.Prediction.Bound {
		return "not CPU-bound in range"
	}
	return fmt.Sprintf("%.1f req/s ≈ %.0f users", a.Prediction.Capacity, a.Prediction.Users)
}

func predFormula(a *results.Analysis) string {
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
