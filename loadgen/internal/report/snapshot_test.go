package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/stats"
)

// snapshotFixture runs a fixed 8-second load through the real stats engine
// with a fake clock: 10 requests a second, one failure in ten, the intended
// start lagging more and more behind.
func snapshotFixture() *stats.Snapshot {
	t0 := time.Unix(1795761380, 0)
	now := t0
	s := stats.New(func() time.Time { return now })
	var snap *stats.Snapshot
	for sec := 0; sec < 8; sec++ {
		for i := 0; i < 10; i++ {
			start := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*100*time.Millisecond)
			r := stats.Result{Method: "POST", Name: "/api/v1/ml/sync/predict", Start: start,
				Intended:     start.Add(-time.Duration(sec*i) * time.Millisecond),
				ResponseTime: time.Duration(40+i) * time.Millisecond, ContentLength: 51}
			if i == 9 {
				r.Method, r.Name = "GET", "/missing"
				r.Err = "HTTPError('404 Client Error: Not Found for url: /missing')"
				r.ContentLength = 0
			}
			s.Record(r)
		}
		now = t0.Add(time.Duration(sec+1) * time.Second)
		snap = s.Tick(now, 10)
	}
	return snap
}

func TestFromSnapshot(t *testing.T) {
	t.Parallel()
	info := Info{Host: "http://127.0.0.1:5001", UserClasses: []string{"ApiSyncUser"}, Users: 10, SpawnRate: 10,
		RunTime: 8 * time.Second, Version: "test"}
	d := FromSnapshot(snapshotFixture(), info, &SelfCheck{Valid: true, MaxCPUPercent: 12.5, MaxScheduleLagMs: 0.8})
	if n := len(d.Requests); n != 3 || !d.Requests[2].Aggregated || d.Requests[2].NumRequests != 80 {
		t.Fatalf("requests = %+v", d.Requests)
	}
	if d.Failures[0].Error != "404 Client Error: Not Found for url: /missing" {
		t.Errorf("failure shown as %q, want Locust's str() form", d.Failures[0].Error)
	}
	// The figures themselves belong to the stats package's tests; here: the
	// mapping (counts, rows, history length, intended beside measured).
	if got := len(d.History); got != 8 {
		t.Errorf("history has %d points, want 8", got)
	}
	if in, me := d.Intended[2].Max, d.Requests[2].Max; in <= me {
		t.Errorf("intended max %v should exceed measured max %v", in, me)
	}
	if _, err := json.Marshal(EmbeddedData(d)); err != nil {
		t.Fatal(err)
	}
	if d.Start != time.Unix(1795761380, 0) || d.End.Before(d.Start) {
		t.Errorf("time span %v - %v", d.Start, d.End)
	}
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "VALID") || !strings.Contains(buf.String(), `<div id="chart-rps">`) {
		t.Error("report lacks the verdict or the charts")
	}
}

func TestFromNilSnapshot(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, FromSnapshot(nil, Info{}, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"HTTPError('500 Server Error: Internal Server Error for url: http://x/fail')", "500 Server Error: Internal Server Error for url: http://x/fail"},
		{"ConnectionRefusedError(111, 'Connection refused')", "[Errno 111] Connection refused"},
		{`CatchResponseError("Got wrong response")`, "Got wrong response"},
		{`CatchResponseError('it\'s wrong')`, "it's wrong"},
		{"plain text", "plain text"},
		{"Broken(", "Broken("},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ErrorText(tc.in); got != tc.want {
				t.Errorf("ErrorText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFromSelfCheck(t *testing.T) {
	t.Parallel()
	sc := FromSelfCheck(loadgenjson.SelfCheck{Valid: false, MaxCPUPercent: 95, MaxScheduleLagMS: 30, Warnings: []string{"w"},
		Timeline: []loadgenjson.Point{{Timestamp: 1795761381, Users: 3, CPUPercent: 95, MaxLagMS: 30}}})
	want := CheckPoint{Time: time.Unix(1795761381, 0), Users: 3, CPUPercent: 95, MaxLagMs: 30}
	if sc.Valid || sc.MaxCPUPercent != 95 || sc.MaxScheduleLagMs != 30 || len(sc.Warnings) != 1 || len(sc.Timeline) != 1 || sc.Timeline[0] != want || sc.TimelineNote != "" {
		t.Errorf("%+v", sc)
	}
	// A distributed master's: the note says whose seconds they are.
	for source, note := range map[string]string{loadgenjson.TimelineWorkers: TimelineWorkersNote, loadgenjson.TimelineNone: TimelineNoneNote} {
		if got := FromSelfCheck(loadgenjson.SelfCheck{TimelineSource: source}).TimelineNote; got != note {
			t.Errorf("source %q: note %q, want %q", source, got, note)
		}
	}
}
