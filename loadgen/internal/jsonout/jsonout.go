// Package jsonout builds the document loadgen prints on stdout with --json,
// as the types of predictlab/internal/loadgenjson (which the lab decodes):
// Locust's /stats/requests entry fields plus total rates and a percentile
// map, for the normal and the intended-start statistics, beside the run's
// self-check, configuration, times and exit code.
package jsonout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/stats"
)

// Meta is what the caller adds to a Snapshot to make the document.
type Meta struct {
	// SelfCheck is the "self_check" object: a loadgenjson.SelfCheck (the
	// runner's selfcheck.Report), a pointer to one, nil, or any value that
	// marshals to that shape (it is converted; unknown keys are dropped).
	SelfCheck any
	Config    loadgenjson.Config
	// StartTime and EndTime of the run; zero means the Snapshot's StartTime
	// and Time.
	StartTime, EndTime time.Time
	ExitCode           int
	// PercentileSource is Document.PercentileSource ("" for one process).
	PercentileSource string
}

// toSelfCheck converts Meta.SelfCheck to the document's type.
func toSelfCheck(v any) (*loadgenjson.SelfCheck, error) {
	switch sc := v.(type) {
	case nil:
		return nil, nil
	case loadgenjson.SelfCheck:
		return &sc, nil
	case *loadgenjson.SelfCheck:
		return sc, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode self check: %w", err)
	}
	var sc *loadgenjson.SelfCheck
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("convert self check: %w", err)
	}
	return sc, nil
}

// finite maps NaN and ±Inf (never expected) to 0 so that encoding cannot fail.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Entries converts entries plus their total (last) into JSON entries.
func Entries(entries []*stats.Entry, total *stats.Entry) []loadgenjson.Entry {
	out := make([]loadgenjson.Entry, 0, len(entries)+1)
	for _, e := range entries {
		out = append(out, entry(e))
	}
	if total != nil {
		out = append(out, entry(total))
	}
	return out
}

func entry(e *stats.Entry) loadgenjson.Entry {
	var p loadgenjson.Percentiles
	for i, q := range locustcsv.Percentiles() {
		p[i] = finite(e.Percentile(q))
	}
	return loadgenjson.Entry{
		Method:                  e.Method,
		Name:                    e.Name,
		NumRequests:             e.NumRequests,
		NumFailures:             e.NumFailures,
		AvgResponseTime:         finite(e.Avg()),
		MinResponseTime:         finite(e.Min()),
		MaxResponseTime:         finite(e.Max()),
		MedianResponseTime:      finite(e.Median()),
		NinetiethResponseTime:   finite(e.Percentile(0.9)),
		NinetyNinthResponseTime: finite(e.Percentile(0.99)),
		AvgContentLength:        finite(e.AvgContentSize()),
		CurrentRPS:              finite(e.CurrentRPS()),
		CurrentFailPerSec:       finite(e.CurrentFailPerSec()),
		TotalRPS:                finite(e.TotalRPS()),
		TotalFailPerSec:         finite(e.TotalFailPerSec()),
		Percentiles:             p,
	}
}

func unixFloat(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// Build returns the document for the final snapshot s and the caller's
// meta. It fails only when meta.SelfCheck does not have the self-check shape.
func Build(s *stats.Snapshot, meta Meta) (*loadgenjson.Document, error) {
	start, end := meta.StartTime, meta.EndTime
	if start.IsZero() {
		start = s.StartTime
	}
	if end.IsZero() {
		end = s.Time
	}
	cfg := meta.Config
	if cfg.UserClasses == nil {
		cfg.UserClasses = []string{}
	}
	sc, err := toSelfCheck(meta.SelfCheck)
	if err != nil {
		return nil, err
	}
	return &loadgenjson.Document{
		Stats:     Entries(s.Entries, s.Total),
		Intended:  Entries(s.IntendedEntries, s.IntendedTotal),
		SelfCheck: sc,
		Config:    cfg,
		StartTime: unixFloat(start),
		EndTime:   unixFloat(end),
		ExitCode:  meta.ExitCode,

		PercentileSource: meta.PercentileSource,
	}, nil
}

// Write writes Build(s, meta) to w as indented JSON followed by a newline.
func Write(w io.Writer, s *stats.Snapshot, meta Meta) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	doc, err := Build(s, meta)
	if err != nil {
		return fmt.Errorf("build json: %w", err)
	}
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
