package locustcsv

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadStatsValues(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(locustDir, "sample_stats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadStats(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows", len(rows))
	}
	agg := rows[2]
	if agg.Type != "" || agg.Name != AggregatedName || agg.RequestCount != 130 || agg.FailureCount != 34 ||
		agg.Median != 56 || agg.AvgContentSize != 16.046153846153846 || agg.Percentiles[10] != 72 {
		t.Errorf("aggregated row = %+v", agg)
	}
}

func TestReadStatsNA(t *testing.T) {
	t.Parallel()
	in := StatsHeader + "\r\n,Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n"
	rows, err := ReadStats(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range rows[0].Percentiles {
		if !math.IsNaN(p) {
			t.Errorf("percentile %d = %v, want NaN", i, p)
		}
	}
}

func TestReadHistoryPartial(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(seedDir, "response_time_async_stats_history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := ReadHistory(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cut  int // bytes removed from the end
		want int // rows
	}{
		{"complete", 0, len(all)},
		{"without last line end", 1, len(all) - 1},
		{"half a line", 40, len(all) - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadHistory(bytes.NewReader(data[:len(data)-tt.cut]))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tt.want {
				t.Errorf("got %d rows, want %d", len(rows), tt.want)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		rows, err := ReadHistory(strings.NewReader(""))
		if err != nil || len(rows) != 0 {
			t.Errorf("got %v, %v", rows, err)
		}
	})
	t.Run("half a header", func(t *testing.T) {
		rows, err := ReadHistory(strings.NewReader(HistoryHeader[:30]))
		if err != nil || len(rows) != 0 {
			t.Errorf("got %v, %v", rows, err)
		}
	})
	t.Run("cut inside a quoted name", func(t *testing.T) {
		in := HistoryHeader + "\r\n" + string(AppendHistoryRow(nil, HistoryRow{Timestamp: 1, Name: "a", Percentiles: nan11()})) +
			"2,0,GET,\"a,\nb"
		rows, err := ReadHistory(strings.NewReader(in))
		if err != nil || len(rows) != 1 {
			t.Errorf("got %d rows, %v", len(rows), err)
		}
	})
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		read func(string) error
		in   string
		want string
	}{
		{"stats empty", readStats, "", "empty file"},
		{"stats wrong header", readStats, "Type,Name\r\n", "wrong number of fields"},
		{"stats renamed column", readStats, strings.Replace(StatsHeader, "Median", "Mean", 1) + "\r\n", `column 5 is "Mean Response Time"`},
		{"stats bad count", readStats, StatsHeader + "\r\nGET,/a,x,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n", `line 2 column 3 "x"`},
		{"stats bad percentile", readStats, StatsHeader + "\r\nGET,/a,1,0,0,0.0,0,0,0,0.0,0.0,1.5,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n", `column 12 "1.5"`},
		{"failures bad occurrences", readFailures, FailuresHeader + "\r\nGET,/a,e,many\r\n", `line 2 column 4`},
		{"exceptions bad count", readExceptions, ExceptionsHeader + "\r\nx,m,t,local\r\n", `line 2 column 1`},
		{"history bad timestamp", readHistory, HistoryHeader + "\r\nnow,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n", `line 2 column 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func readStats(s string) error      { _, err := ReadStats(strings.NewReader(s)); return err }
func readHistory(s string) error    { _, err := ReadHistory(strings.NewReader(s)); return err }
func readFailures(s string) error   { _, err := ReadFailures(strings.NewReader(s)); return err }
func readExceptions(s string) error { _, err := ReadExceptions(strings.NewReader(s)); return err }
