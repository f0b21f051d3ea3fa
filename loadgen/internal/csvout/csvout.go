// Package csvout writes loadgen's --csv files: PREFIX_stats.csv,
// PREFIX_stats_history.csv, PREFIX_failures.csv, PREFIX_exceptions.csv
// (Locust 2.12.1's formats, via internal/locustcsv) and PREFIX_intended.csv
// (the _stats.csv columns, response times from the intended start).
//
// Open the files with Open, call Tick with each per-second Snapshot, and
// Close with the final Snapshot: unlike Locust 2.12.1, the files are then
// complete (every request counted, all history rows written).
package csvout

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/stats"
)

// StatsRows converts entries plus their total into _stats.csv rows: the
// entries in the given (Snapshot) order, then the Aggregated row.
func StatsRows(entries []*stats.Entry, total *stats.Entry) []locustcsv.StatsRow {
	rows := make([]locustcsv.StatsRow, 0, len(entries)+1)
	for _, e := range entries {
		rows = append(rows, statsRow(e))
	}
	if total != nil {
		rows = append(rows, statsRow(total))
	}
	return rows
}

func statsRow(e *stats.Entry) locustcsv.StatsRow {
	return locustcsv.StatsRow{
		Type:           e.Method,
		Name:           e.Name,
		RequestCount:   e.NumRequests,
		FailureCount:   e.NumFailures,
		Median:         e.Median(),
		Average:        e.Avg(),
		Min:            e.Min(),
		Max:            e.Max(),
		AvgContentSize: e.AvgContentSize(),
		RequestsPerSec: e.TotalRPS(),
		FailuresPerSec: e.TotalFailPerSec(),
		Percentiles:    percentiles(e, false),
	}
}

// percentiles returns the percentile cells of e: N/A (NaN) with no
// requests, else the cumulative or the current-window values (0 while no
// window exists, as Locust writes None).
func percentiles(e *stats.Entry, current bool) [locustcsv.NumPercentiles]float64 {
	var out [locustcsv.NumPercentiles]float64
	for i, q := range locustcsv.Percentiles() {
		switch {
		case e.NumRequests == 0:
			out[i] = math.NaN()
		case current:
			out[i] = e.CurrentPercentile(q)
		default:
			out[i] = e.Percentile(q)
		}
	}
	return out
}

// HistoryRows returns the _stats_history.csv rows for one second: only the
// Aggregated row with cumulative percentiles, or with full (as
// --csv-full-history) one row per entry and then Aggregated, all with
// current-window percentiles.
func HistoryRows(s *stats.Snapshot, full bool) []locustcsv.HistoryRow {
	var rows []locustcsv.HistoryRow
	if full {
		for _, e := range s.Entries {
			rows = append(rows, historyRow(s, e, true))
		}
	}
	return append(rows, historyRow(s, s.Total, full))
}

func historyRow(s *stats.Snapshot, e *stats.Entry, current bool) locustcsv.HistoryRow {
	return locustcsv.HistoryRow{
		Timestamp:           s.Time.Unix(),
		UserCount:           s.Users,
		Type:                e.Method,
		Name:                e.Name,
		RequestsPerSec:      e.CurrentRPS(),
		FailuresPerSec:      e.CurrentFailPerSec(),
		Percentiles:         percentiles(e, current),
		TotalRequestCount:   e.NumRequests,
		TotalFailureCount:   e.NumFailures,
		TotalMedian:         e.Median(),
		TotalAverage:        e.Avg(),
		TotalMin:            e.Min(),
		TotalMax:            e.Max(),
		TotalAvgContentSize: e.AvgContentSize(),
	}
}

// FailureRows returns the _failures.csv rows in Locust's order (sorted by
// its sha256 error key).
func FailureRows(s *stats.Snapshot) []locustcsv.FailureRow {
	rows := make([]locustcsv.FailureRow, 0, len(s.Failures))
	for _, f := range s.Failures {
		rows = append(rows, locustcsv.FailureRow{Method: f.Method, Name: f.Name, Error: f.Error, Occurrences: f.Occurrences})
	}
	locustcsv.SortFailures(rows)
	return rows
}

// ExceptionRows returns the _exceptions.csv rows in first-occurrence order.
func ExceptionRows(s *stats.Snapshot) []locustcsv.ExceptionRow {
	rows := make([]locustcsv.ExceptionRow, 0, len(s.Exceptions))
	for _, x := range s.Exceptions {
		rows = append(rows, locustcsv.ExceptionRow{Count: x.Count, Message: x.Message, Traceback: x.Traceback, Nodes: x.Nodes})
	}
	return rows
}

// WriteStats writes the content of PREFIX_stats.csv for s.
func WriteStats(w io.Writer, s *stats.Snapshot) error {
	return locustcsv.WriteStats(w, StatsRows(s.Entries, s.Total))
}

// WriteIntended writes the content of PREFIX_intended.csv for s.
func WriteIntended(w io.Writer, s *stats.Snapshot) error {
	return locustcsv.WriteStats(w, StatsRows(s.IntendedEntries, s.IntendedTotal))
}

// WriteFailures writes the content of PREFIX_failures.csv for s.
func WriteFailures(w io.Writer, s *stats.Snapshot) error {
	return locustcsv.WriteFailures(w, FailureRows(s))
}

// WriteExceptions writes the content of PREFIX_exceptions.csv for s.
func WriteExceptions(w io.Writer, s *stats.Snapshot) error {
	return locustcsv.WriteExceptions(w, ExceptionRows(s))
}

// Formats writes the CSV contents served by the web UI's download routes;
// its methods match webui.CSV.
type Formats struct{}

// Stats writes the content of PREFIX_stats.csv for s.
func (Formats) Stats(w io.Writer, s *stats.Snapshot) error { return WriteStats(w, s) }

// Failures writes the content of PREFIX_failures.csv for s.
func (Formats) Failures(w io.Writer, s *stats.Snapshot) error { return WriteFailures(w, s) }

// Exceptions writes the content of PREFIX_exceptions.csv for s.
func (Formats) Exceptions(w io.Writer, s *stats.Snapshot) error { return WriteExceptions(w, s) }

// Writer owns the open CSV files of one run. It is not safe for concurrent
// use: one goroutine (the runner's ticker) calls Tick and finally Close.
type Writer struct {
	full                                    bool
	stats, history, failures, exc, intended file
	lastTS, lastCount                       int64 // last history row written
	wroteHistory                            bool
	historySize                             int64 // bytes of whole rows in the history file
	buf                                     bytes.Buffer
}

// file is what a Writer needs of an open file: an *os.File (tests inject
// failing ones).
type file interface {
	io.Writer
	io.WriterAt
	io.Seeker
	Truncate(size int64) error
	Close() error
	Name() string
}

var _ file = (*os.File)(nil)

// Suffixes of the files, appended to the prefix.
const (
	StatsSuffix      = "_stats.csv"
	HistorySuffix    = "_stats_history.csv"
	FailuresSuffix   = "_failures.csv"
	ExceptionsSuffix = "_exceptions.csv"
	IntendedSuffix   = "_intended.csv"
)

// Open creates (truncating) the five files PREFIX_stats.csv,
// PREFIX_stats_history.csv, PREFIX_failures.csv, PREFIX_exceptions.csv and
// PREFIX_intended.csv, and writes their headers. The directory is not
// created: if it is missing the error reads
// "csv: open output/x_stats.csv: no such file or directory". fullHistory is
// --csv-full-history.
func Open(prefix string, fullHistory bool) (*Writer, error) {
	w := &Writer{full: fullHistory}
	files := []struct {
		f      *file
		suffix string
		header string
	}{
		{&w.stats, StatsSuffix, locustcsv.StatsHeader},
		{&w.history, HistorySuffix, locustcsv.HistoryHeader},
		{&w.failures, FailuresSuffix, locustcsv.FailuresHeader},
		{&w.exc, ExceptionsSuffix, locustcsv.ExceptionsHeader},
		{&w.intended, IntendedSuffix, locustcsv.StatsHeader},
	}
	for _, fd := range files {
		f, err := os.Create(prefix + fd.suffix)
		if err == nil {
			_, err = f.WriteString(fd.header + "\r\n")
		}
		if err != nil {
			if f != nil {
				_ = f.Close()
			}
			w.closeAll()
			return nil, fmt.Errorf("csv: %w", err)
		}
		*fd.f = f
	}
	w.historySize = int64(len(locustcsv.HistoryHeader) + 2)
	return w, nil
}

func (w *Writer) closeAll() error {
	var errs []error
	for _, f := range []file{w.stats, w.history, w.failures, w.exc, w.intended} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("csv: close %s: %w", f.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// rewrite replaces the content of f with what write produces.
func (w *Writer) rewrite(f file, write func(io.Writer, *stats.Snapshot) error, s *stats.Snapshot) error {
	w.buf.Reset()
	if err := write(&w.buf, s); err != nil {
		return err
	}
	if _, err := f.WriteAt(w.buf.Bytes(), 0); err != nil {
		return fmt.Errorf("csv: write %s: %w", f.Name(), err)
	}
	if err := f.Truncate(int64(w.buf.Len())); err != nil {
		return fmt.Errorf("csv: truncate %s: %w", f.Name(), err)
	}
	return nil
}

// appendHistory appends the history rows of s. A failed write (a full
// disk) is cut back to the last whole row, so the file never holds a torn
// row in its middle: that second has no row, and the next one follows the
// last whole row.
func (w *Writer) appendHistory(s *stats.Snapshot) error {
	w.buf.Reset()
	if err := locustcsv.WriteHistoryRows(&w.buf, HistoryRows(s, w.full)); err != nil {
		return err
	}
	if _, err := w.history.Write(w.buf.Bytes()); err != nil {
		_ = w.history.Truncate(w.historySize)
		_, _ = w.history.Seek(w.historySize, io.SeekStart)
		return fmt.Errorf("csv: write %s: %w", w.history.Name(), err)
	}
	w.historySize += int64(w.buf.Len())
	w.lastTS, w.lastCount, w.wroteHistory = s.Time.Unix(), s.Total.NumRequests, true
	return nil
}

// Tick writes one second's state: it rewrites _stats.csv, _failures.csv,
// _exceptions.csv and _intended.csv and appends the history row(s).
func (w *Writer) Tick(s *stats.Snapshot) error {
	if s == nil {
		return nil
	}
	return errors.Join(
		w.rewrite(w.stats, WriteStats, s),
		w.rewrite(w.failures, WriteFailures, s),
		w.rewrite(w.exc, WriteExceptions, s),
		w.rewrite(w.intended, WriteIntended, s),
		w.appendHistory(s),
	)
}

// Close writes the final snapshot (if not nil) to every file, including a
// last history row unless the previous row already has the same second and
// request count, then closes the files.
func (w *Writer) Close(final *stats.Snapshot) error {
	var err error
	if final != nil {
		err = errors.Join(
			w.rewrite(w.stats, WriteStats, final),
			w.rewrite(w.failures, WriteFailures, final),
			w.rewrite(w.exc, WriteExceptions, final),
			w.rewrite(w.intended, WriteIntended, final),
		)
		if !w.wroteHistory || final.Time.Unix() != w.lastTS || final.Total.NumRequests != w.lastCount {
			err = errors.Join(err, w.appendHistory(final))
		}
	}
	return errors.Join(err, w.closeAll())
}
