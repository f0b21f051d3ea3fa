package locustcsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// readRecords reads a CSV file whose first line must be header. With
// partialOK, a last line without its line end (a file still being written)
// is ignored, and so is an empty input.
func readRecords(r io.Reader, header, what string, partialOK bool) ([][]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if partialOK {
		if i := bytes.LastIndexByte(data, '\n'); i < 0 {
			data = nil
		} else {
			data = data[:i+1]
		}
		if len(data) == 0 {
			return nil, nil
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	want := strings.Split(header, ",")
	cr.FieldsPerRecord = len(want)
	recs, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if partialOK && errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) {
			// A quoted field cut by the writer: keep the complete rows.
			recs, err = readUntilError(data, len(want))
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("read %s: empty file, want header %q", what, header)
	}
	for i, h := range recs[0] {
		if h != want[i] {
			return nil, fmt.Errorf("read %s: column %d is %q, want %q", what, i+1, h, want[i])
		}
	}
	return recs[1:], nil
}

// readUntilError returns the records before the first parse error.
func readUntilError(data []byte, fields int) ([][]string, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = fields
	var recs [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) {
				return recs, nil
			}
			return nil, err
		}
		recs = append(recs, rec)
	}
}

// fieldParser parses the cells of one record, keeping the first error.
type fieldParser struct {
	rec  []string
	line int
	err  error
}

func (p *fieldParser) fail(col int, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("line %d column %d %q: %w", p.line, col+1, p.rec[col], err)
	}
}

func (p *fieldParser) int(col int) int64 {
	v, err := strconv.ParseInt(p.rec[col], 10, 64)
	if err != nil {
		p.fail(col, err)
	}
	return v
}

func (p *fieldParser) float(col int) float64 {
	v, err := strconv.ParseFloat(p.rec[col], 64)
	if err != nil {
		p.fail(col, err)
	}
	return v
}

// form returns how cell col is written.
func (p *fieldParser) form(col int) Form {
	if strings.ContainsAny(p.rec[col], ".eEnN") {
		return FormFloat
	}
	return FormInt
}

// maxExactInt bounds percentile cells so that they survive float64 exactly.
const maxExactInt = 1 << 53

// percentile parses an int percentile cell or "N/A" (NaN).
func (p *fieldParser) percentile(col int) float64 {
	if p.rec[col] == "N/A" {
		return math.NaN()
	}
	v, err := strconv.ParseInt(p.rec[col], 10, 64)
	if err != nil {
		p.fail(col, err)
		return 0
	}
	if v > maxExactInt || v < -maxExactInt {
		p.fail(col, errors.New("percentile out of range"))
	}
	return float64(v)
}

// ReadStats reads PREFIX_stats.csv or PREFIX_intended.csv (Locust 1.4.3 or
// 2.12.1 forms, or ours). Rows are returned in file order.
func ReadStats(r io.Reader) ([]StatsRow, error) {
	recs, err := readRecords(r, StatsHeader, "stats csv", false)
	if err != nil {
		return nil, err
	}
	rows := make([]StatsRow, 0, len(recs))
	for i, rec := range recs {
		p := fieldParser{rec: rec, line: i + 2}
		row := StatsRow{
			Type:           rec[0],
			Name:           rec[1],
			RequestCount:   p.int(2),
			FailureCount:   p.int(3),
			Median:         p.float(4),
			Average:        p.float(5),
			Min:            p.float(6),
			Max:            p.float(7),
			AvgContentSize: p.float(8),
			RequestsPerSec: p.float(9),
			FailuresPerSec: p.float(10),
			MedianForm:     p.form(4),
			AverageForm:    p.form(5),
		}
		for k := range row.Percentiles {
			row.Percentiles[k] = p.percentile(11 + k)
		}
		if p.err != nil {
			return nil, fmt.Errorf("read stats csv: %w", p.err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ReadHistory reads PREFIX_stats_history.csv. A last line without its line
// end (the file is being written) is ignored; an empty file gives no rows.
func ReadHistory(r io.Reader) ([]HistoryRow, error) {
	recs, err := readRecords(r, HistoryHeader, "stats history csv", true)
	if err != nil {
		return nil, err
	}
	rows := make([]HistoryRow, 0, len(recs))
	for i, rec := range recs {
		p := fieldParser{rec: rec, line: i + 2}
		row := HistoryRow{
			Timestamp:      p.int(0),
			UserCount:      int(p.int(1)),
			Type:           rec[2],
			Name:           rec[3],
			RequestsPerSec: p.float(4),
			FailuresPerSec: p.float(5),
		}
		for k := range row.Percentiles {
			row.Percentiles[k] = p.percentile(6 + k)
		}
		row.TotalRequestCount = p.int(17)
		row.TotalFailureCount = p.int(18)
		row.TotalMedian = p.float(19)
		row.TotalAverage = p.float(20)
		row.TotalMin = p.float(21)
		row.TotalMax = p.float(22)
		row.TotalAvgContentSize = p.float(23)
		row.TotalMedianForm = p.form(19)
		row.TotalAverageForm = p.form(20)
		if p.err != nil {
			return nil, fmt.Errorf("read stats history csv: %w", p.err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ReadFailures reads PREFIX_failures.csv.
func ReadFailures(r io.Reader) ([]FailureRow, error) {
	recs, err := readRecords(r, FailuresHeader, "failures csv", false)
	if err != nil {
		return nil, err
	}
	rows := make([]FailureRow, 0, len(recs))
	for i, rec := range recs {
		p := fieldParser{rec: rec, line: i + 2}
		row := FailureRow{Method: rec[0], Name: rec[1], Error: rec[2], Occurrences: p.int(3)}
		if p.err != nil {
			return nil, fmt.Errorf("read failures csv: %w", p.err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ReadExceptions reads PREFIX_exceptions.csv.
func ReadExceptions(r io.Reader) ([]ExceptionRow, error) {
	recs, err := readRecords(r, ExceptionsHeader, "exceptions csv", false)
	if err != nil {
		return nil, err
	}
	rows := make([]ExceptionRow, 0, len(recs))
	for i, rec := range recs {
		p := fieldParser{rec: rec, line: i + 2}
		row := ExceptionRow{Count: p.int(0), Message: rec[1], Traceback: rec[2], Nodes: rec[3]}
		if p.err != nil {
			return nil, fmt.Errorf("read exceptions csv: %w", p.err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}
