// Package console formats loadgen's stderr tables exactly as Locust 2.12.1
// prints them: the stats table (periodic with current rates, final with
// total rates), the "Response time percentiles (approximated)" table and
// the error report. Every table ends with an empty line, as Locust's
// logging prints it. The functions are pure; the caller writes the result
// to stderr.
package console

import (
	"fmt"
	"io"
	"strings"

	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/stats"
)

// DefaultNameWidth is Locust's STATS_NAME_WIDTH when stdout is not a terminal.
const DefaultNameWidth = 80

// typeWidth is Locust's STATS_TYPE_WIDTH.
const typeWidth = 8

// NameWidth returns Locust's STATS_NAME_WIDTH for a stdout that is a
// terminal of cols columns (isTerminal) or not: max(min(cols-80, 80), 0),
// or 80 when stdout is not a terminal.
func NameWidth(cols int, isTerminal bool) int {
	if !isTerminal {
		return DefaultNameWidth
	}
	return max(min(cols-80, 80), 0)
}

// trunc is Python's %d applied to a float: truncation toward zero.
func trunc(v float64) int64 { return int64(v) }

// pad is Python's "%-Ns" for a (possibly negative) N, as Locust's name
// column "%-{W-4}s" becomes "%--4s" (width 4) when W is 0.
func pad(s string, n int) string {
	if n < 0 {
		n = -n
	}
	return fmt.Sprintf("%-*s", n, s)
}

func dashes(n int) string { return strings.Repeat("-", max(n, 0)) }

// StatsTable returns Locust's stats table for snap. current selects the
// periodic form (req/s and failures/s are the current rates); otherwise the
// final form with total rates. width is the STATS_NAME_WIDTH (NameWidth).
func StatsTable(snap *stats.Snapshot, current bool, width int) string {
	nw := width - typeWidth + 4
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %s %7s %12s |%7s %7s %7s%7s | %7s %11s\n",
		"Type", pad("Name", nw), "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s")
	sep := dashes(typeWidth) + "|" + dashes(nw) + "|" + dashes(7) + "|" + dashes(13) + "|" + dashes(7) + "|" +
		dashes(7) + "|" + dashes(7) + "|" + dashes(7) + "|" + dashes(8) + "|" + dashes(11) + "\n"
	b.WriteString(sep)
	for _, e := range snap.Entries {
		statsRow(&b, e, current, nw)
	}
	b.WriteString(sep)
	if snap.Total != nil {
		statsRow(&b, snap.Total, current, nw)
	}
	b.WriteString("\n")
	return b.String()
}

func statsRow(b *strings.Builder, e *stats.Entry, current bool, nw int) {
	typ := ""
	if e.Method != "" {
		typ = e.Method + " "
	}
	rps, fps := e.TotalRPS(), e.TotalFailPerSec()
	if current {
		rps, fps = e.CurrentRPS(), e.CurrentFailPerSec()
	}
	fails := fmt.Sprintf("%d(%.2f%%)", e.NumFailures, e.FailRatio()*100)
	fmt.Fprintf(b, "%-8s %s %7d %12s |%7d %7d %7d%7d | %7.2f %11.2f\n",
		typ, pad(e.Name, nw), e.NumRequests, fails,
		trunc(e.Avg()), trunc(e.Min()), trunc(e.Max()), trunc(e.Median()), rps, fps)
}

// percentileLabels are Locust's get_readable_percentiles of
// PERCENTILES_TO_REPORT.
const percentileLabels = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"

// PercentileTable returns the "Response time percentiles (approximated)"
// table: a row per entry with at least one request, then the Aggregated
// row if the total has one. width is the STATS_NAME_WIDTH.
func PercentileTable(snap *stats.Snapshot, width int) string {
	return percentileTable("Response time percentiles (approximated)", snap.Entries, snap.Total, width)
}

// IntendedPercentileTable is PercentileTable for the response times
// measured from the intended start (not part of Locust's output; the
// runner may print it under its own title).
func IntendedPercentileTable(snap *stats.Snapshot, width int) string {
	return percentileTable("Response time percentiles from the intended start (approximated)",
		snap.IntendedEntries, snap.IntendedTotal, width)
}

func percentileTable(title string, entries []*stats.Entry, total *stats.Entry, width int) string {
	var b strings.Builder
	b.WriteString(title + "\n")
	labels := strings.Split(percentileLabels, ",")
	fmt.Fprintf(&b, "%-8s %s %8s", "Type", pad("Name", width), labels[0])
	for _, l := range append(labels[1:], "# reqs") {
		fmt.Fprintf(&b, " %6s", l)
	}
	b.WriteString("\n")
	sep := dashes(typeWidth) + "|" + dashes(width) + "|" + dashes(8) + strings.Repeat("|"+dashes(6), len(labels)) + "\n"
	b.WriteString(sep)
	for _, e := range entries {
		if e.NumRequests > 0 {
			percentileRow(&b, e, width)
		}
	}
	b.WriteString(sep)
	if total != nil && total.NumRequests > 0 {
		percentileRow(&b, total, width)
	}
	b.WriteString("\n")
	return b.String()
}

func percentileRow(b *strings.Builder, e *stats.Entry, width int) {
	qs := locustcsv.Percentiles()
	fmt.Fprintf(b, "%-8s %s %8d", e.Method, pad(e.Name, width), trunc(e.Percentile(qs[0])))
	for _, q := range qs[1:] {
		fmt.Fprintf(b, " %6d", trunc(e.Percentile(q)))
	}
	fmt.Fprintf(b, " %6d\n", e.NumRequests)
}

// ErrorReport returns Locust's "Error report" (one row per distinct
// (method, name, error) in first-occurrence order), or "" when no request
// failed.
func ErrorReport(snap *stats.Snapshot, width int) string {
	if len(snap.Failures) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Error report\n")
	fmt.Fprintf(&b, "%-18s %-100s\n", "# occurrences", "Error")
	sep := dashes(18) + "|" + dashes(80+width-19) + "\n"
	b.WriteString(sep)
	for _, f := range snap.Failures {
		fmt.Fprintf(&b, "%-18d %-100s\n", f.Occurrences, f.Method+" "+f.Name+": "+f.Error)
	}
	b.WriteString(sep)
	b.WriteString("\n")
	return b.String()
}

// Final returns what Locust prints at shutdown: the final stats table
// (total rates), the percentile table and, if any request failed, the error
// report.
func Final(snap *stats.Snapshot, width int) string {
	return StatsTable(snap, false, width) + PercentileTable(snap, width) + ErrorReport(snap, width)
}

// WritePeriodic writes the periodic stats table (current rates) to w.
func WritePeriodic(w io.Writer, snap *stats.Snapshot, width int) error {
	_, err := io.WriteString(w, StatsTable(snap, true, width))
	return err
}
