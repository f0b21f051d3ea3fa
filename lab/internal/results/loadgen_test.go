package results

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
)

func TestReadLatest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "h.csv")
	if p := ReadLatest(path); p.Users != 0 || !math.IsNaN(p.P50) {
		t.Errorf("missing file: got %+v", p)
	}
	content := locustcsv.HistoryHeader + "\r\n" +
		"1700000000,10,,Aggregated,9.500000,0.000000,95,96,97,98,99,100,101,102,103,104,105,50,1,95,95.5,90,105,20\r\n" +
		"1700000001,20,,Aggreg" // partial line being written
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	p := ReadLatest(path)
	if p.Users != 10 || p.RPS != 9.5 || p.P50 != 95 || p.Fails != 1 {
		t.Errorf("one row: got %+v, want users 10, rps 9.5 (the column), p50 95, fails 1", p)
	}
	more := locustcsv.HistoryHeader + "\r\n" +
		"1700000000,10,,Aggregated,0.000000,0.000000,95,96,97,98,99,100,101,102,103,104,105,0,0,95,95.5,90,105,20\r\n" +
		"1700000001,20,,Aggregated,0.000000,0.000000,95,96,97,98,99,100,101,102,103,104,105,10,0,95,95.5,90,105,20\r\n" +
		"1700000002,30,,Aggregated,0.000000,0.000000,95,96,97,98,99,100,101,102,103,104,105,40,0,95,95.5,90,105,20\r\n"
	if err := os.WriteFile(path, []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
	if p := ReadLatest(path); p.Users != 30 || p.RPS != 20 {
		t.Errorf("three rows: got %+v, want users 30 and 20 req/s from the counts", p)
	}
}

const sampleJSON = `{"stats":[{"method":"POST","name":"/api/v1/ml/sync/predict","num_requests":10,"num_failures":0,"avg_response_time":91,"min_response_time":90,"max_response_time":93,"median_response_time":91,"total_rps":1,"percentiles":{"50":91,"95":93}},
{"method":"","name":"Aggregated","num_requests":10,"num_failures":0,"avg_response_time":91,"min_response_time":90,"max_response_time":93,"median_response_time":91,"total_rps":1,"percentiles":{"50":91,"95":93}}],
"intended":[{"method":"","name":"Aggregated","num_requests":10,"median_response_time":92,"percentiles":{"50":92}}],
"self_check":{"valid":true,"max_cpu_percent":12.5,"max_schedule_lag_ms":1.5,"warnings":[],"timeline":[{"timestamp":1700000000,"users":1,"cpu_percent":3,"max_lag_ms":0.4}]},
"config":{"host":"http://x","users":1},"start_time":1700000000.5,"end_time":1700000010.5,"exit_code":0}`

func TestReadLoadgenJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	if err := os.WriteFile(path, []byte(sampleJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadLoadgenJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	a := loadgenjson.Aggregated(r.Stats)
	if a == nil || a.MedianResponseTime != 91 || a.Percentiles[5] != 93 { // [5] is "95"
		t.Errorf("aggregated = %+v", a)
	}
	if r.SelfCheck == nil || !r.SelfCheck.Valid || len(r.SelfCheck.Timeline) != 1 {
		t.Errorf("self check = %+v", r.SelfCheck)
	}
	if err := os.WriteFile(path, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLoadgenJSON(path); err == nil {
		t.Error("empty document accepted")
	}
	if _, err := ReadLoadgenJSON(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}
