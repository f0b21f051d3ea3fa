package loadgenjson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

const sample = `{"stats":[{"method":"POST","name":"/p","num_requests":10,"num_failures":1,"median_response_time":91,"total_rps":1,"percentiles":{"50":91,"95":93,"100":99}},
{"method":"","name":"Aggregated","num_requests":10,"num_failures":1,"median_response_time":91,"percentiles":{"50":91}}],
"intended":[{"method":"","name":"Aggregated","num_requests":10,"median_response_time":92,"percentiles":{"50":92}}],
"self_check":{"valid":false,"max_cpu_percent":95.5,"max_schedule_lag_ms":12.25,"warnings":["w"],"timeline":[{"timestamp":1700000000,"users":1,"cpu_percent":95.5,"max_lag_ms":12.25}]},
"config":{"host":"http://x","users":1,"spawn_rate":1,"run_time_s":10,"user_classes":["ApiSyncUser"],"version":"v"},
"start_time":1700000000.5,"end_time":1700000010.5,"exit_code":1}`

func TestDecode(t *testing.T) {
	t.Parallel()
	d, err := Decode(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Document{
		Stats: []Entry{
			{Method: "POST", Name: "/p", NumRequests: 10, NumFailures: 1, MedianResponseTime: 91, TotalRPS: 1,
				Percentiles: Percentiles{0: 91, 5: 93, 10: 99}},
			{Name: "Aggregated", NumRequests: 10, NumFailures: 1, MedianResponseTime: 91, Percentiles: Percentiles{0: 91}},
		},
		Intended: []Entry{{Name: "Aggregated", NumRequests: 10, MedianResponseTime: 92, Percentiles: Percentiles{0: 92}}},
		SelfCheck: &SelfCheck{MaxCPUPercent: 95.5, MaxScheduleLagMS: 12.25, Warnings: []string{"w"},
			Timeline: []Point{{Timestamp: 1700000000, Users: 1, CPUPercent: 95.5, MaxLagMS: 12.25}}},
		Config:    Config{Host: "http://x", Users: 1, SpawnRate: 1, RunTimeS: 10, UserClasses: []string{"ApiSyncUser"}, Version: "v"},
		StartTime: 1700000000.5, EndTime: 1700000010.5, ExitCode: 1,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", d, want)
	}
	if a := Aggregated(d.Stats); a != &d.Stats[1] {
		t.Errorf("Aggregated = %v", a)
	}
	if Aggregated(nil) != nil {
		t.Error("Aggregated(nil) != nil")
	}

	// What is encoded decodes to the same document.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(bytes.NewReader(b))
	if err != nil || !reflect.DeepEqual(again, d) {
		t.Errorf("round trip: %v\n%s", err, b)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "{}", `{"stats":[{"percentiles":[1]}]}`, "not json"} {
		if _, err := Decode(strings.NewReader(in)); err == nil || !strings.HasPrefix(err.Error(), "decode loadgen json: ") {
			t.Errorf("Decode(%q) = %v", in, err)
		}
	}
}

func TestPercentilesMarshal(t *testing.T) {
	t.Parallel()
	p := Percentiles{50, 66, 75, 80, 90, 95, 98, 99, 99.9, math.NaN(), math.Inf(1)}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"50":50,"66":66,"75":75,"80":80,"90":90,"95":95,"98":98,"99":99,"99.9":99.9,"99.99":0,"100":0}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    SelfCheck
		want string
	}{
		{SelfCheck{Valid: true, MaxCPUPercent: 3.25, MaxScheduleLagMS: 0.5},
			"Self-check: valid measurement (generator CPU max 3.2%, schedule lag max 0.5 ms)"},
		{SelfCheck{MaxCPUPercent: 95, MaxScheduleLagMS: 30},
			"Self-check: NOT a valid measurement, the load generator fell behind (generator CPU max 95.0%, schedule lag max 30.0 ms)"},
		{SelfCheck{Valid: true, MaxCPUPercent: 2, MaxScheduleLagMS: 25.2, ScheduledRequests: 90000, LateRequests: 14},
			"Self-check: valid measurement (generator CPU max 2.0%, schedule lag max 25.2 ms, 14 of 90000 requests (0.02%) more than 10 ms late)"},
	}
	for _, tt := range tests {
		if got := tt.s.Summary(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(sample)
	f.Add(`{"stats":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(strings.NewReader(s))
		if err == nil && d.Stats == nil {
			t.Fatal("document without stats accepted")
		}
	})
}
