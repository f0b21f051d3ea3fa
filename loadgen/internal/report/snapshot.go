package report

import (
	"regexp"
	"strings"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/stats"
)

// Info describes the run a report is about (what the statistics do not know).
type Info struct {
	Script      string        // scenario file base name; "" for the built-in classes
	Host        string        // target host
	UserClasses []string      // user classes run
	Users       int           // requested peak users
	SpawnRate   float64       // users per second
	RunTime     time.Duration // requested run time, 0 = none
	Version     string        // loadgen version
	// Ratios are the classes' and tasks' shares for "Final ratio", from the
	// users running when the test stopped (Locust's final_user_classes_count).
	Ratios ratio.Ratios
	// PercentileSource is where a distributed master's percentiles come from
	// (PercentilesExact, PercentilesBuckets); "" for one process.
	PercentileSource string
}

// FromSnapshot builds the report of snap. check may be nil (no verdict).
// snap may be nil (an empty report).
func FromSnapshot(snap *stats.Snapshot, info Info, check *SelfCheck) *Data {
	d := &Data{
		Script: info.Script, Host: info.Host, UserClasses: info.UserClasses, Users: info.Users,
		SpawnRate: info.SpawnRate, RunTime: info.RunTime, Version: info.Version, SelfCheck: check,
		Ratios: info.Ratios, PercentileSource: info.PercentileSource,
	}
	if snap == nil {
		d.Requests = []Row{{Name: "Aggregated", Aggregated: true}}
		return d
	}
	d.Start = snap.StartTime
	d.End = snap.Time
	if snap.Total != nil && !snap.Total.LastRequest.IsZero() {
		d.End = snap.Total.LastRequest
	}
	d.Requests = rows(snap.Entries, snap.Total)
	d.Intended = rows(snap.IntendedEntries, snap.IntendedTotal)
	for _, f := range snap.Failures {
		d.Failures = append(d.Failures, Failure{Method: f.Method, Name: f.Name, Error: ErrorText(f.Error), Occurrences: f.Occurrences})
	}
	for _, e := range snap.Exceptions {
		d.Exceptions = append(d.Exceptions, Exception{Count: e.Count, Message: e.Message, Traceback: e.Traceback, Nodes: e.Nodes})
	}
	for _, h := range snap.History {
		d.History = append(d.History, Point{Time: h.Time, Users: h.Users, RPS: h.RPS, FailPerSec: h.FailPerSec,
			P50: h.P50, P95: h.P95, IntendedP50: h.IntendedP50, IntendedP95: h.IntendedP95})
	}
	return d
}

func rows(entries []*stats.Entry, total *stats.Entry) []Row {
	out := make([]Row, 0, len(entries)+1)
	for _, e := range entries {
		out = append(out, row(e, false))
	}
	if total != nil {
		out = append(out, row(total, true))
	}
	return out
}

func row(e *stats.Entry, aggregated bool) Row {
	r := Row{
		Method: e.Method, Name: e.Name, NumRequests: e.NumRequests, NumFailures: e.NumFailures,
		Avg: e.Avg(), Min: e.Min(), Max: e.Max(), Median: e.Median(), AvgContentSize: e.AvgContentSize(),
		RPS: e.TotalRPS(), FailPerSec: e.TotalFailPerSec(), Aggregated: aggregated,
	}
	for i, p := range PercentileFractions() {
		r.Percentiles[i] = e.Percentile(p)
	}
	return r
}

var (
	reprOneArg = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*\((?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\)$`)
	reprErrno  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*\((-?\d+), (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\)$`)
)

// ErrorText turns Locust's repr-style error (as the CSV and console show it)
// into the str() form Locust's HTML report shows:
// "HTTPError('500 Server Error: …')" → "500 Server Error: …",
// "ConnectionRefusedError(111, 'Connection refused')" → "[Errno 111] Connection refused".
// Other text is returned unchanged.
func ErrorText(repr string) string {
	if m := reprOneArg.FindStringSubmatch(repr); m != nil {
		return unquote(m[1] + m[2])
	}
	if m := reprErrno.FindStringSubmatch(repr); m != nil {
		return "[Errno " + m[1] + "] " + unquote(m[2]+m[3])
	}
	return repr
}

func unquote(s string) string {
	return strings.NewReplacer(`\'`, `'`, `\"`, `"`, `\\`, `\`).Replace(s)
}

// FromSelfCheck converts the generator's self-check report.
func FromSelfCheck(r loadgenjson.SelfCheck) *SelfCheck {
	sc := &SelfCheck{Valid: r.Valid, MaxCPUPercent: r.MaxCPUPercent, MaxScheduleLagMs: r.MaxScheduleLagMS,
		LatePercent: loadgenjson.LatePercentOf(r.LateRequests, r.ScheduledRequests),
		Warnings:    append([]string(nil), r.Warnings...)}
	switch r.TimelineSource {
	case loadgenjson.TimelineWorkers:
		sc.TimelineNote = TimelineWorkersNote
	case loadgenjson.TimelineNone:
		sc.TimelineNote = TimelineNoneNote
	}
	for _, p := range r.Timeline {
		sc.Timeline = append(sc.Timeline, CheckPoint{Time: time.Unix(p.Timestamp, 0), Users: p.Users,
			CPUPercent: p.CPUPercent, MaxLagMs: p.MaxLagMS})
	}
	return sc
}
