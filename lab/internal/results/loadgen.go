package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
	"predictlab/lab/internal/jsonnum"
)

// ReadFiles loads an experiment's stats, intended and history files, named
// PREFIX_stats.csv, PREFIX_intended.csv and PREFIX_stats_history.csv, into
// e. current says the history was written with --csv-full-history (its
// percentile cells are current-window ones). A missing intended file is no
// error (older loadgens do not write it); the others are.
func ReadFiles(prefix string, e *Experiment, current bool) error {
	var errs []error
	if rows, err := readCSV(prefix+"_stats.csv", locustcsv.ReadStats); err == nil {
		e.Stats = summaryOf(rows)
	} else {
		errs = append(errs, err)
	}
	if rows, err := readCSV(prefix+"_intended.csv", locustcsv.ReadStats); err == nil {
		e.Intended = summaryOf(rows)
	}
	if rows, err := readCSV(prefix+"_stats_history.csv", locustcsv.ReadHistory); err == nil {
		e.History = nil
		for _, h := range rows {
			if h.Name != locustcsv.AggregatedName {
				continue
			}
			e.History = append(e.History, HistPoint{T: h.Timestamp, Users: h.UserCount, Total: h.TotalRequestCount,
				Failures: h.TotalFailureCount, TotalAvgMS: h.TotalAverage, RPS: jsonnum.Float(h.RequestsPerSec),
				P50: pct(h.Percentiles[0]), P95: pct(h.Percentiles[5]), Current: current})
		}
	} else {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// pct maps the history's 0 ("no window yet" in full-history mode) and N/A to NaN.
func pct(v float64) jsonnum.Float {
	if math.IsNaN(v) || v <= 0 {
		return jsonnum.NaN()
	}
	return jsonnum.Float(v)
}

func readCSV[T any](path string, read func(io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	rows, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return rows, nil
}

func summaryOf(rows []locustcsv.StatsRow) *Summary {
	for _, s := range rows {
		if s.Name == locustcsv.AggregatedName {
			return &Summary{Requests: s.RequestCount, Failures: s.FailureCount, AvgMS: s.Average, MinMS: s.Min, MaxMS: s.Max,
				MedianMS: s.Median, P95MS: jsonnum.Float(s.Percentiles[5]), P99MS: jsonnum.Float(s.Percentiles[7]), RPS: s.RequestsPerSec}
		}
	}
	return nil
}

// Latest is the last Aggregated row of a stats history that is still
// being written, for progress display.
type Latest struct {
	Users int
	RPS   float64 // completions per second over the last 2 s of the history
	P50   float64 // the history's 50% cell (NaN until there are requests)
	Fails int64
}

// ReadLatest reads the last Aggregated row of a (possibly growing)
// history file; zero values (P50 NaN) when there is none yet.
func ReadLatest(path string) Latest {
	p := Latest{P50: math.NaN()}
	f, err := os.Open(path)
	if err != nil {
		return p
	}
	defer f.Close()
	rows, err := locustcsv.ReadHistory(f)
	if err != nil {
		return p
	}
	var agg []locustcsv.HistoryRow
	for _, r := range rows {
		if r.Name == locustcsv.AggregatedName {
			agg = append(agg, r)
		}
	}
	if len(agg) == 0 {
		return p
	}
	r := agg[len(agg)-1]
	p = Latest{Users: r.UserCount, RPS: r.RequestsPerSec, P50: r.Percentiles[0], Fails: r.TotalFailureCount}
	// Completions per second over the last two rows: Locust's Requests/s
	// is a trailing 10 s average that lags a ramp.
	if len(agg) >= 3 {
		a := agg[len(agg)-3]
		if dt := r.Timestamp - a.Timestamp; dt > 0 {
			p.RPS = float64(r.TotalRequestCount-a.TotalRequestCount) / float64(dt)
		}
	}
	return p
}

// ReadLoadgenJSON reads the document loadgen printed with --json.
func ReadLoadgenJSON(path string) (*loadgenjson.Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read loadgen json: %w", err)
	}
	return loadgenjson.Decode(bytes.NewReader(b))
}
