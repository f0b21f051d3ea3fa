package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/analysis"
	"predictlab/lab/internal/results"
)

// Conclusion writes a few plain sentences from the numbers; every claim is
// computed, none is canned.
func Conclusion(r *results.Results) []string {
	var out []string
	for _, t := range r.Targets {
		for _, e := range t.Experiments {
			if e.Failed != "" {
				out = append(out, fmt.Sprintf("Experiment %d %s of %s failed (%s): it is no result, and nothing below is drawn from it.",
					e.Number, e.Name, t.Name, e.Failed))
			}
		}
	}
	byName := map[string]*results.Target{}
	for _, t := range r.Targets {
		byName[t.Name] = t
	}
	var parts []string
	floor := "floor"
	if r.Settings.External {
		floor = "floor from the stated delays"
	}
	for _, t := range r.Targets {
		if a := t.Analysis; a != nil && a.Exp1 != nil {
			if a.Exp1.FloorUnknown != "" {
				parts = append(parts, fmt.Sprintf("%s answered one user in a median of %s (its floor is unknown: %s)",
					t.Name, fmtMS(a.Exp1.MedianMS), a.Exp1.FloorUnknown))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s answered one user in a median of %s (%s above its %s %s)",
				t.Name, fmtMS(a.Exp1.MedianMS), fmtMS(a.Exp1.OverheadMS), fmtMS(a.Exp1.FloorMS), floor))
		}
	}
	if len(parts) > 0 {
		out = append(out, upper(strings.Join(parts, "; "))+".")
	}
	if r.Settings.External {
		// The lab started nothing: it knows only what the user stated.
		out = append(out, "These services were external (--external): the lab knows of their workers, loops, CPU costs and downstream delays only what the command line stated ("+
			statedText(r.Settings.Stated)+"), so the floors and the queueing model's predictions use only that, and say \"unknown\" where an input is missing.")
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
		case a.Saturation != nil:
			// Throughput held, but only because the users waited less.
			s = fmt.Sprintf("%s completed what its users offered through all %d users of experiment 2 (no breaking point by the throughput rule; peak in experiments 2–4: %.1f req/s), but it did not keep up: from %d users its latency (%s) reached %.0f%% of the pacing interval, so the server was saturated and throughput held only because the users waited less between requests.",
				upper(t.Name), bp.MaxUsers, a.PeakThroughput, a.Saturation.Users, fmtMS(a.Saturation.LatencyMS), analysis.SaturationShare*100)
		default:
			s = fmt.Sprintf("%s kept up through all %d users of experiment 2 (breaking point not reached; peak in experiments 2–4: %.1f req/s).",
				upper(t.Name), bp.MaxUsers, a.PeakThroughput)
		}
		if sat := a.Saturation; sat != nil && bp.Reached && bp.Users > sat.Users {
			s += fmt.Sprintf(" Its latency had already reached %.0f%% of the pacing interval at %d users (%s): saturated before the throughput rule noticed.",
				analysis.SaturationShare*100, sat.Users, fmtMS(sat.LatencyMS))
		}
		if a.Prediction.Unknown != "" {
			s += " The queueing model makes no prediction: unknown (" + a.Prediction.Unknown + ")."
		} else if a.Prediction.Bound && bp.Reached && bp.Users > 0 {
			dev := (float64(bp.Users) - a.Prediction.Users) / a.Prediction.Users * 100
			s += fmt.Sprintf(" The queueing model%s predicted %.0f users (%s); the measurement is %+.0f%% from it.", assuming(r), a.Prediction.Users, a.Prediction.Formula, dev)
		} else if a.Prediction.Bound && !bp.Reached {
			rel := "consistent with"
			if a.Prediction.Users < float64(bp.MaxUsers) {
				rel = "not consistent with"
			}
			s += fmt.Sprintf(" The queueing model%s predicted %.0f users, %s that.", assuming(r), a.Prediction.Users, rel)
		} else if !a.Prediction.Bound {
			s += " The queueing model" + assuming(r) + " sees no CPU limit in range (" + a.Prediction.Formula + ")."
		}
		if bp.KneeReached && bp.Reached && bp.KneeUsers < bp.Users {
			s += fmt.Sprintf(" Latency doubled earlier, at %d users (%.0f%% of the breaking point): users spawned in one-second batches keep their phase under constant_pacing(1), so each second's requests arrive as bursts and queue before the average load reaches capacity.",
				bp.KneeUsers, float64(bp.KneeUsers)/float64(bp.Users)*100)
		} else if bp.KneeReached {
			s += fmt.Sprintf(" Latency passed twice experiment 1's median at %d users.", bp.KneeUsers)
		}
		out = append(out, s)
	}
	if s, a := byName[string(targetsapi.Sync)], byName[string(targetsapi.Async)]; s != nil && a != nil && s.Analysis != nil && a.Analysis != nil &&
		s.Analysis.PeakThroughput > 0 && a.Analysis.PeakThroughput > 0 {
		out = append(out, peakComparison(s.Analysis, a.Analysis))
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
			loadgenjson.LatePercent, loadgenjson.LateMS, analysis.GeneratorCPUPercent, flags))
	default:
		out = append(out, fmt.Sprintf("The load generator's self-check judged %d experiment run(s) not valid and flagged %d second(s) (CPU ≥ %.0f%%, or more than %d%% of a second's requests over %d ms late); numbers from those runs may understate the servers (see Load generator validity).",
			invalid, flags, analysis.GeneratorCPUPercent, loadgenjson.LatePercent, loadgenjson.LateMS))
	}
	return out
}

// assuming qualifies a prediction for external services, whose parts
// the lab knows only as stated.
func assuming(r *results.Results) string {
	if r.Settings.External {
		return ", from the parts stated on the command line,"
	}
	return ""
}

// statedText lists what the command line stated about external services.
func statedText(st *results.Stated) string {
	if st.Empty() {
		return "nothing was stated"
	}
	var p []string
	if st.SyncWorkers != nil {
		p = append(p, fmt.Sprintf("--sync-workers %d", *st.SyncWorkers))
	}
	if st.AsyncLoops != nil {
		p = append(p, fmt.Sprintf("--async-loops %d", *st.AsyncLoops))
	}
	if st.ModelDelay != nil {
		p = append(p, "--model-delay "+*st.ModelDelay)
	}
	if st.Fanout != nil {
		p = append(p, fmt.Sprintf("--fanout %d", *st.Fanout))
	}
	if st.CPUCost != nil {
		p = append(p, "--cpu-cost "+st.CPUCost.String())
	}
	return strings.Join(p, ", ")
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
func sortedTargets(ts []*results.Target) []*results.Target {
	out := append([]*results.Target(nil), ts...)
	rank := map[string]int{string(targetsapi.Sync): 0, string(targetsapi.Async): 1}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Name] < rank[out[j].Name] })
	return out
}

// peakComparison compares the two targets' peak throughput in one sentence. A target that
// never fell behind only shows a lower bound of its capacity (its peak is what the users
// offered), so the ratio is a bound in that direction, and no ratio at all when neither fell
// behind.
func peakComparison(s, a *results.Analysis) string {
	reached := func(x *results.Analysis) bool { return x.Breakpoint == nil || x.Breakpoint.Reached }
	sr, ar := reached(s), reached(a)
	figures := fmt.Sprintf("%.1f vs %.1f req/s, best 10 s", a.PeakThroughput, s.PeakThroughput)
	if !sr && !ar {
		return fmt.Sprintf("Neither server fell behind the load offered, so their peaks (event loop vs blocking: %s) are the load the users offered, not capacities: this run does not rank them.", figures)
	}
	ratio := a.PeakThroughput / s.PeakThroughput
	if ratio >= 1 {
		bound := ""
		if !ar {
			bound = "at least "
		}
		return fmt.Sprintf("At its peak the event loop completed %s%.2f× the blocking server's throughput (%s): more capacity from the same machine.", bound, ratio, figures)
	}
	bound := ""
	if !sr {
		bound = "at most "
	}
	return fmt.Sprintf("At its peak the event loop completed only %s%.2f× the blocking server's throughput (%s): here the blocking server gets more from the same machine.", bound, ratio, figures)
}
