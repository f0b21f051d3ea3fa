package locustcsv

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestRateFormat(t *testing.T) {
	t.Parallel()
	// Python f"{x:2f}".
	tests := []struct {
		in   float64
		want string
	}{
		{142, "142.000000"},
		{146.66666666666666, "146.666667"},
		{0, "0.000000"},
		{1e-7, "0.000000"},
		{2.5e-6, "0.000003"},
		{123456.7890125, "123456.789012"},
	}
	for _, tt := range tests {
		if got := string(appendRate(nil, tt.in)); got != tt.want {
			t.Errorf("rate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMedianForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    float64
		f    Form
		want string
	}{
		{"no requests", 0, FormAuto, "0"},
		{"bucket below 100", 63, FormAuto, "63"},
		{"bucket from 100", 230, FormAuto, "230.0"},
		{"clamped raw value", 121.99020099996005, FormAuto, "121.99020099996005"},
		{"raw value below 100", 69.11893099822919, FormAuto, "69.11893099822919"},
		{"int 100 kept", 100, FormInt, "100"},
		{"float 100 kept", 100, FormFloat, "100.0"},
		{"float below 100 kept", 61, FormFloat, "61.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendMedian(nil, tt.v, tt.f)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func nan11() [NumPercentiles]float64 {
	var p [NumPercentiles]float64
	for i := range p {
		p[i] = math.NaN()
	}
	return p
}

// TestWriteMatchesLocust builds rows from the values in Locust 2.12.1's own
// sample files (with the default forms) and compares the bytes.
func TestWriteMatchesLocust(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(locustDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("stats", func(t *testing.T) {
		rows := []StatsRow{
			{Type: "GET", Name: "/missing", RequestCount: 34, FailureCount: 34, Median: 6, Average: 6.693822735294763,
				Min: 1.440429000012955, Max: 21.078939000062746, AvgContentSize: 19, RequestsPerSec: 5.538984542608377,
				FailuresPerSec: 5.538984542608377, Percentiles: [11]float64{6, 7, 7, 9, 13, 19, 21, 21, 21, 21, 21}},
			{Type: "GET", Name: "/sleep", RequestCount: 96, FailureCount: 0, Median: 57, Average: 58.22536244793023,
				Min: 52.88012799996977, Max: 72.14886099995965, AvgContentSize: 15, RequestsPerSec: 15.639485767364828,
				FailuresPerSec: 0, Percentiles: [11]float64{57, 58, 58, 61, 64, 69, 72, 72, 72, 72, 72}},
			{Type: "", Name: "Aggregated", RequestCount: 130, FailureCount: 34, Median: 56, Average: 44.74788283077942,
				Min: 1.440429000012955, Max: 72.14886099995965, AvgContentSize: 16.046153846153846, RequestsPerSec: 21.178470309973207,
				FailuresPerSec: 5.538984542608377, Percentiles: [11]float64{56, 57, 58, 58, 62, 69, 71, 72, 72, 72, 72}},
		}
		var b bytes.Buffer
		if err := WriteStats(&b, rows); err != nil {
			t.Fatal(err)
		}
		if want := read("sample_stats.csv"); !bytes.Equal(b.Bytes(), want) {
			t.Errorf("got\n%q\nwant\n%q", b.Bytes(), want)
		}
	})
	t.Run("zero stats row", func(t *testing.T) {
		got := string(AppendStatsRow(nil, StatsRow{Name: "Aggregated", Percentiles: nan11()}))
		want := ",Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n"
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("history", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteHistory(&b, []HistoryRow{{Timestamp: 1795762056, Name: "Aggregated", Percentiles: nan11()}}); err != nil {
			t.Fatal(err)
		}
		if want := read("sample_stats_history.csv"); !bytes.Equal(b.Bytes(), want) {
			t.Errorf("got\n%q\nwant\n%q", b.Bytes(), want)
		}
	})
	t.Run("history full row", func(t *testing.T) {
		// From the reference's --csv-full-history sample.
		got := string(AppendHistoryRow(nil, HistoryRow{Timestamp: 1795761435, UserCount: 10, Type: "GET", Name: "/health-caught",
			TotalRequestCount: 2, TotalFailureCount: 2, TotalMedian: 1.4444569999909618, TotalAverage: 1.8491774999915833,
			TotalMin: 1.4444569999909618, TotalMax: 2.253897999992205, TotalAvgContentSize: 15}))
		want := "1795761435,10,GET,/health-caught,0.000000,0.000000,0,0,0,0,0,0,0,0,0,0,0,2,2,1.4444569999909618,1.8491774999915833,1.4444569999909618,2.253897999992205,15.0\r\n"
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
	t.Run("failures", func(t *testing.T) {
		var b bytes.Buffer
		rows := []FailureRow{{Method: "GET", Name: "/missing", Error: "HTTPError('404 Client Error: Not Found for url: http://127.0.0.1:18080/missing')", Occurrences: 34}}
		if err := WriteFailures(&b, rows); err != nil {
			t.Fatal(err)
		}
		if want := read("sample_failures.csv"); !bytes.Equal(b.Bytes(), want) {
			t.Errorf("got\n%q\nwant\n%q", b.Bytes(), want)
		}
	})
	t.Run("failures sorted and quoted", func(t *testing.T) {
		// The reference's mixed.py sample, given in first-occurrence order.
		rows := []FailureRow{
			{"GET", "/refused", "ConnectionRefusedError(111, 'Connection refused')", 17},
			{"GET", "/fail", "HTTPError('500 Server Error: Internal Server Error for url: http://127.0.0.1:8001/fail')", 13},
			{"GET", "/nope-[named]", "HTTPError('404 Client Error: Not Found for url: /nope-[named]')", 23},
			{"GET", "/health-caught", "CatchResponseError('Got wrong response')", 13},
		}
		SortFailures(rows)
		var b bytes.Buffer
		if err := WriteFailures(&b, rows); err != nil {
			t.Fatal(err)
		}
		want := "Method,Name,Error,Occurrences\r\n" +
			"GET,/health-caught,CatchResponseError('Got wrong response'),13\r\n" +
			"GET,/refused,\"ConnectionRefusedError(111, 'Connection refused')\",17\r\n" +
			"GET,/nope-[named],HTTPError('404 Client Error: Not Found for url: /nope-[named]'),23\r\n" +
			"GET,/fail,HTTPError('500 Server Error: Internal Server Error for url: http://127.0.0.1:8001/fail'),13\r\n"
		if b.String() != want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), want)
		}
	})
	t.Run("exceptions", func(t *testing.T) {
		tb := "  File \"<site-packages>/locust/user/task.py\", line 347, in run\n    self.execute_next_task()\n" +
			"  File \"<workdir>/mixed.py\", line 35, in boom\n    raise ValueError(\"something broke in the task\")\n"
		var b bytes.Buffer
		if err := WriteExceptions(&b, []ExceptionRow{{21, "something broke in the task", tb, "local"}}); err != nil {
			t.Fatal(err)
		}
		want := "Count,Message,Traceback,Nodes\r\n21,something broke in the task,\"  File \"\"<site-packages>/locust/user/task.py\"\", line 347, in run\n    self.execute_next_task()\n" +
			"  File \"\"<workdir>/mixed.py\"\", line 35, in boom\n    raise ValueError(\"\"something broke in the task\"\")\n\",local\r\n"
		if b.String() != want {
			t.Errorf("got\n%q\nwant\n%q", b.String(), want)
		}
		rows, err := ReadExceptions(&b)
		if err != nil || len(rows) != 1 || rows[0].Traceback != tb {
			t.Errorf("read back: %v %+v", err, rows)
		}
	})
}
