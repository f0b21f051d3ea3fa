package jsonout

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Unix(1795762056, 0)

// selfCheck mimics the runner's report type.
type selfCheck struct {
	Valid            bool     `json:"valid"`
	MaxCPUPercent    float64  `json:"max_cpu_percent"`
	MaxScheduleLagMS float64  `json:"max_schedule_lag_ms"`
	Warnings         []string `json:"warnings"`
	Timeline         []struct {
		Timestamp int64 `json:"timestamp"`
	} `json:"timeline"`
}

func snapshot() *stats.Snapshot {
	now := t0
	s := stats.New(func() time.Time { return now })
	for i := range 20 {
		start := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		r := stats.Result{Method: "POST", Name: "/api/v1/ml/async/predict", Start: start,
			Intended: start.Add(-time.Duration(i) * time.Millisecond), ResponseTime: time.Duration(40+i) * time.Millisecond, ContentLength: 51}
		if i%7 == 0 {
			r.Method, r.Name, r.Err, r.ContentLength = "GET", "/missing", "HTTPError('404 Client Error: Not Found for url: /missing')", 0
		}
		s.Record(r)
	}
	for i := 1; i <= 3; i++ {
		now = t0.Add(time.Duration(i) * time.Second)
		s.Tick(now, 5)
	}
	return s.Snapshot()
}

func TestGolden(t *testing.T) {
	var b bytes.Buffer
	meta := Meta{
		SelfCheck: selfCheck{Valid: true, MaxCPUPercent: 12.5, Warnings: []string{}},
		Config: loadgenjson.Config{Host: "http://127.0.0.1:8001", Users: 5, SpawnRate: 5, RunTimeS: 3, UserClasses: []string{"ApiAsyncUser"},
			Tags: []string{"predict"}, ExcludeTags: []string{"slow", "health"}, EqualWeights: true, Version: "test"},
		EndTime:  t0.Add(3500 * time.Millisecond),
		ExitCode: 1,
	}
	if err := Write(&b, snapshot(), meta); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "run.json")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("differs from %s:\n%s", path, b.String())
	}

	var doc loadgenjson.Document
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	last := doc.Stats[len(doc.Stats)-1]
	if last.Name != "Aggregated" || last.Method != "" || last.NumRequests != 20 || last.NumFailures != 3 ||
		last.Percentiles[10] != 59 || doc.Intended[len(doc.Intended)-1].Percentiles[10] != 78 || doc.StartTime != 1795762056 || doc.EndTime != 1795762059.5 {
		t.Errorf("decoded: %+v", doc)
	}
}

func TestEmptySnapshotEncodes(t *testing.T) {
	t.Parallel()
	s := stats.New(func() time.Time { return t0 })
	var b bytes.Buffer
	if err := Write(&b, s.Snapshot(), Meta{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"stats", "intended", "self_check", "config", "start_time", "end_time", "exit_code"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
}

// percentile_source is written on a distributed master only.
func TestPercentileSource(t *testing.T) {
	t.Parallel()
	s := stats.New(func() time.Time { return t0 })
	for _, tc := range []struct{ source, want string }{{"", ""}, {"exact", "exact"}, {"locust_buckets", "locust_buckets"}} {
		var b bytes.Buffer
		if err := Write(&b, s.Snapshot(), Meta{PercentileSource: tc.source}); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		got, ok := doc["percentile_source"]
		if (tc.want == "") == ok || (ok && got != tc.want) {
			t.Errorf("source %q: percentile_source = %v (present %v), want %q", tc.source, got, ok, tc.want)
		}
	}
}
