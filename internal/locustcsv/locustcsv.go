// Package locustcsv reads and writes the CSV files of Locust 2.12.1's
// --csv option (PREFIX_stats.csv, PREFIX_stats_history.csv,
// PREFIX_failures.csv, PREFIX_exceptions.csv) and predictlab's
// PREFIX_intended.csv (same columns as _stats.csv).
//
// Writers reproduce Locust's bytes: Python csv.writer defaults (',' and
// minimal quoting, "\r\n" line ends) and Python's number forms (ints without
// a point, floats as the shortest round-trip repr with ".0" for integral
// values, "N/A" cells, 6 decimals for the history's rates). Readers accept
// those files, Locust 1.4.3's (the seed's) and ours, and ReadHistory
// tolerates a partially written last line.
//
// All functions are safe for concurrent use; row values are plain data.
package locustcsv

// Header lines (without the "\r\n" line end) of the files, byte for byte as
// Locust 2.12.1 writes them. PREFIX_intended.csv uses StatsHeader.
const (
	StatsHeader      = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
	HistoryHeader    = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size"
	FailuresHeader   = "Method,Name,Error,Occurrences"
	ExceptionsHeader = "Count,Message,Traceback,Nodes"
)

// NumPercentiles is the number of percentile columns.
const NumPercentiles = 11

// Percentiles returns the quantiles of the percentile columns, in order:
// 0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0
// (Locust's PERCENTILES_TO_REPORT).
func Percentiles() [NumPercentiles]float64 {
	return [NumPercentiles]float64{0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0}
}

// AggregatedName is the Name of the total row (its Type is "").
const AggregatedName = "Aggregated"

// Form is how a cell that Python may hold as an int or a float is written.
// The zero value, FormAuto, applies Locust 2.12.1's rules from the value;
// readers record the form they saw so that a file round-trips byte for byte.
type Form uint8

// Forms of a number cell.
const (
	// FormAuto: a median is an int below 100 ("63") and a float from 100 on
	// ("230.0", "121.99020099996005"); an average is always a float.
	FormAuto Form = iota
	// FormInt: written without a point when integral ("100"; Locust 1.4.3's
	// zero average "0").
	FormInt
	// FormFloat: written as a Python float ("100.0").
	FormFloat
)

// StatsRow is one row of PREFIX_stats.csv (or PREFIX_intended.csv). Times
// are milliseconds. Percentiles follow Percentiles(); NaN means "N/A".
type StatsRow struct {
	Type, Name                                                                string
	RequestCount, FailureCount                                                int64
	Median, Average, Min, Max, AvgContentSize, RequestsPerSec, FailuresPerSec float64
	Percentiles                                                               [NumPercentiles]float64
	// MedianForm and AverageForm say how Median and Average are written.
	MedianForm, AverageForm Form
}

// HistoryRow is one row of PREFIX_stats_history.csv. Percentiles follow
// Percentiles(); NaN means "N/A".
type HistoryRow struct {
	Timestamp                                                          int64
	UserCount                                                          int
	Type, Name                                                         string
	RequestsPerSec, FailuresPerSec                                     float64
	Percentiles                                                        [NumPercentiles]float64
	TotalRequestCount, TotalFailureCount                               int64
	TotalMedian, TotalAverage, TotalMin, TotalMax, TotalAvgContentSize float64
	// TotalMedianForm and TotalAverageForm say how TotalMedian and
	// TotalAverage are written.
	TotalMedianForm, TotalAverageForm Form
}

// FailureRow is one row of PREFIX_failures.csv.
type FailureRow struct {
	Method, Name, Error string
	Occurrences         int64
}

// ExceptionRow is one row of PREFIX_exceptions.csv.
type ExceptionRow struct {
	Count                     int64
	Message, Traceback, Nodes string
}
