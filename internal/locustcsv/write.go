package locustcsv

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"predictlab/internal/pyfmt"
)

// lineEnd is Python csv.writer's default line terminator.
const lineEnd = "\r\n"

// appendField appends s with Python csv's minimal quoting: quoted (inner
// quotes doubled) only if it contains ',', '"', '\r' or '\n'.
func appendField(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendInt appends a Python int.
func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// appendPercentile appends int(v) as Locust writes percentiles, or "N/A"
// for NaN.
func appendPercentile(dst []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(dst, "N/A"...)
	}
	if math.IsInf(v, 0) || math.Abs(v) >= 1<<63 {
		return pyfmt.AppendFloat(dst, v)
	}
	return appendInt(dst, int64(v)) // int() truncates toward zero
}

// appendMedian appends a median the way Python's types make it appear:
// an int for a bucket below 100 ms ("63", and "0" with no requests), a float
// otherwise ("230.0", or a raw clamped value "121.99020099996005").
func appendMedian(dst []byte, v float64, f Form) []byte {
	if f == FormAuto && math.Abs(v) < 100 {
		f = FormInt
	}
	return appendForm(dst, v, f)
}

// appendForm appends v as an int if f is FormInt and v is integral, else as
// a Python float.
func appendForm(dst []byte, v float64, f Form) []byte {
	if f == FormInt && v == math.Trunc(v) && math.Abs(v) < 1<<63 {
		return appendInt(dst, int64(v))
	}
	return pyfmt.AppendFloat(dst, v)
}

// appendZeroInt appends v as a float, except 0 which Locust writes as the int
// "0" (min/max/avg content size of an entry without data).
func appendZeroInt(dst []byte, v float64) []byte {
	if v == 0 && !math.Signbit(v) {
		return append(dst, '0')
	}
	return pyfmt.AppendFloat(dst, v)
}

// AppendStatsRow appends r as one line of PREFIX_stats.csv, "\r\n" included.
func AppendStatsRow(dst []byte, r StatsRow) []byte {
	dst = appendField(dst, r.Type)
	dst = append(dst, ',')
	dst = appendField(dst, r.Name)
	dst = append(dst, ',')
	dst = appendInt(dst, r.RequestCount)
	dst = append(dst, ',')
	dst = appendInt(dst, r.FailureCount)
	dst = append(dst, ',')
	dst = appendMedian(dst, r.Median, r.MedianForm)
	dst = append(dst, ',')
	dst = appendForm(dst, r.Average, r.AverageForm)
	dst = append(dst, ',')
	dst = appendZeroInt(dst, r.Min)
	dst = append(dst, ',')
	dst = appendZeroInt(dst, r.Max)
	dst = append(dst, ',')
	if r.RequestCount == 0 {
		dst = appendZeroInt(dst, r.AvgContentSize)
	} else {
		dst = pyfmt.AppendFloat(dst, r.AvgContentSize)
	}
	dst = append(dst, ',')
	dst = pyfmt.AppendFloat(dst, r.RequestsPerSec)
	dst = append(dst, ',')
	dst = pyfmt.AppendFloat(dst, r.FailuresPerSec)
	for _, p := range r.Percentiles {
		dst = append(dst, ',')
		dst = appendPercentile(dst, p)
	}
	return append(dst, lineEnd...)
}

// AppendHistoryRow appends r as one line of PREFIX_stats_history.csv,
// "\r\n" included. Rates use Python's f"{x:2f}" (6 decimals).
func AppendHistoryRow(dst []byte, r HistoryRow) []byte {
	dst = appendInt(dst, r.Timestamp)
	dst = append(dst, ',')
	dst = appendInt(dst, int64(r.UserCount))
	dst = append(dst, ',')
	dst = appendField(dst, r.Type)
	dst = append(dst, ',')
	dst = appendField(dst, r.Name)
	dst = append(dst, ',')
	dst = appendRate(dst, r.RequestsPerSec)
	dst = append(dst, ',')
	dst = appendRate(dst, r.FailuresPerSec)
	for _, p := range r.Percentiles {
		dst = append(dst, ',')
		dst = appendPercentile(dst, p)
	}
	dst = append(dst, ',')
	dst = appendInt(dst, r.TotalRequestCount)
	dst = append(dst, ',')
	dst = appendInt(dst, r.TotalFailureCount)
	dst = append(dst, ',')
	dst = appendMedian(dst, r.TotalMedian, r.TotalMedianForm)
	dst = append(dst, ',')
	dst = appendForm(dst, r.TotalAverage, r.TotalAverageForm)
	dst = append(dst, ',')
	dst = appendZeroInt(dst, r.TotalMin)
	dst = append(dst, ',')
	dst = appendZeroInt(dst, r.TotalMax)
	dst = append(dst, ',')
	if r.TotalRequestCount == 0 {
		dst = appendZeroInt(dst, r.TotalAvgContentSize)
	} else {
		dst = pyfmt.AppendFloat(dst, r.TotalAvgContentSize)
	}
	return append(dst, lineEnd...)
}

// appendRate formats Python's f"{x:2f}": fixed point, 6 decimals.
func appendRate(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, v, 'f', 6, 64)
}

// AppendFailureRow appends r as one line of PREFIX_failures.csv.
func AppendFailureRow(dst []byte, r FailureRow) []byte {
	dst = appendField(dst, r.Method)
	dst = append(dst, ',')
	dst = appendField(dst, r.Name)
	dst = append(dst, ',')
	dst = appendField(dst, r.Error)
	dst = append(dst, ',')
	dst = appendInt(dst, r.Occurrences)
	return append(dst, lineEnd...)
}

// AppendExceptionRow appends r as one line of PREFIX_exceptions.csv.
func AppendExceptionRow(dst []byte, r ExceptionRow) []byte {
	dst = appendInt(dst, r.Count)
	dst = append(dst, ',')
	dst = appendField(dst, r.Message)
	dst = append(dst, ',')
	dst = appendField(dst, r.Traceback)
	dst = append(dst, ',')
	dst = appendField(dst, r.Nodes)
	return append(dst, lineEnd...)
}

func write(w io.Writer, b []byte, what string) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// WriteStats writes a complete PREFIX_stats.csv (or PREFIX_intended.csv):
// the header and rows in the given order (the caller sorts them by
// (name, method) and puts Aggregated last).
func WriteStats(w io.Writer, rows []StatsRow) error {
	b := append([]byte(StatsHeader), lineEnd...)
	for _, r := range rows {
		b = AppendStatsRow(b, r)
	}
	return write(w, b, "stats csv")
}

// WriteHistoryRows appends rows (no header) to PREFIX_stats_history.csv.
func WriteHistoryRows(w io.Writer, rows []HistoryRow) error {
	var b []byte
	for _, r := range rows {
		b = AppendHistoryRow(b, r)
	}
	return write(w, b, "stats history csv")
}

// WriteHistory writes a complete PREFIX_stats_history.csv: header and rows.
func WriteHistory(w io.Writer, rows []HistoryRow) error {
	b := append([]byte(HistoryHeader), lineEnd...)
	for _, r := range rows {
		b = AppendHistoryRow(b, r)
	}
	return write(w, b, "stats history csv")
}

// WriteFailures writes a complete PREFIX_failures.csv in the given row order.
func WriteFailures(w io.Writer, rows []FailureRow) error {
	b := append([]byte(FailuresHeader), lineEnd...)
	for _, r := range rows {
		b = AppendFailureRow(b, r)
	}
	return write(w, b, "failures csv")
}

// WriteExceptions writes a complete PREFIX_exceptions.csv in the given row order.
func WriteExceptions(w io.Writer, rows []ExceptionRow) error {
	b := append([]byte(ExceptionsHeader), lineEnd...)
	for _, r := range rows {
		b = AppendExceptionRow(b, r)
	}
	return write(w, b, "exceptions csv")
}
