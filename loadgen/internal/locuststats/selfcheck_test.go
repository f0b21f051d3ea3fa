package locuststats

import (
	"reflect"
	"testing"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/locustproto"
)

// A worker's self-check and its recent seconds survive the msgpack
// encoding (the warnings' text is not sent); a Python worker's report (no
// key) and malformed values give none.
func TestSelfCheckRoundTrip(t *testing.T) {
	t.Parallel()
	want := loadgenjson.SelfCheck{Valid: false, MaxCPUPercent: 93.5, MaxScheduleLagMS: 12.125, ScheduledRequests: 4000,
		LateRequests: 77, MaxStartLagMS: 3.5, Warnings: []string{}, Timeline: []loadgenjson.Point{
			{Timestamp: 1795761381, Users: 10, CPUPercent: 93.5, MaxLagMS: 12.125, ScheduledRequests: 10, LateRequests: 1, MaxStartLagMS: 3.5},
			{Timestamp: 1795761382, Users: 10}}}
	full := want
	full.Warnings = []string{"dropped"}
	older := EncodeSelfCheck(want)[:6] // a loadgen worker that sent no seconds
	wantOlder := want
	wantOlder.Timeline = []loadgenjson.Point{}
	badPoints := append(EncodeSelfCheck(want)[:6:6], locustproto.KV{Key: "timeline", Value: []any{
		"x", locustproto.Map{{Key: "timestamp", Value: 1.5}}, locustproto.Map{{Key: "timestamp", Value: int64(-1)}},
		locustproto.Map{{Key: "timestamp", Value: int64(1795761382)}, {Key: "users", Value: int64(10)}, {Key: "late_requests", Value: int64(-4)}}}})
	wantBad := want
	wantBad.Timeline = want.Timeline[1:]
	for _, tc := range []struct {
		name string
		data locustproto.Map
		want loadgenjson.SelfCheck
		ok   bool
	}{
		{"loadgen worker", locustproto.Map{{Key: "user_count", Value: int64(3)}, {Key: SelfCheckKey, Value: EncodeSelfCheck(full)}}, want, true},
		{"loadgen worker without seconds", locustproto.Map{{Key: SelfCheckKey, Value: older}}, wantOlder, true},
		{"malformed seconds are skipped", locustproto.Map{{Key: SelfCheckKey, Value: badPoints}}, wantBad, true},
		{"python worker", locustproto.Map{{Key: "user_count", Value: int64(3)}}, loadgenjson.SelfCheck{}, false},
		{"not a map", locustproto.Map{{Key: SelfCheckKey, Value: "yes"}}, loadgenjson.SelfCheck{}, false},
		{"no verdict", locustproto.Map{{Key: SelfCheckKey, Value: locustproto.Map{{Key: "max_cpu_percent", Value: 1.0}}}}, loadgenjson.SelfCheck{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := locustproto.Encode(locustproto.Message{Type: locustproto.TypeStats, Data: tc.data, NodeID: "w"})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := locustproto.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := msg.Data.(locustproto.Map)
			got, ok := DecodeSelfCheck(data)
			if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
				t.Errorf("DecodeSelfCheck = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzDecodeSelfCheck: whatever a peer sends under the key, decoding does
// not panic and gives no negative counts.
func FuzzDecodeSelfCheck(f *testing.F) {
	b, _ := locustproto.Encode(locustproto.Message{Type: locustproto.TypeStats, NodeID: "w",
		Data: locustproto.Map{{Key: SelfCheckKey, Value: EncodeSelfCheck(loadgenjson.SelfCheck{Valid: true, ScheduledRequests: 5, LateRequests: 1,
			Timeline: []loadgenjson.Point{{Timestamp: 1795761381, Users: 2, CPUPercent: 4.5, ScheduledRequests: 5, LateRequests: 1}}})}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		msg, err := locustproto.Decode(in)
		if err != nil {
			return
		}
		data, _ := msg.Data.(locustproto.Map)
		sc, ok := DecodeSelfCheck(data)
		if ok && (sc.ScheduledRequests < 0 || sc.LateRequests < 0 || len(sc.Timeline) > maxPoints) {
			t.Errorf("negative counts or too many points %+v", sc)
		}
		for _, p := range sc.Timeline {
			if p.Timestamp <= 0 || p.ScheduledRequests < 0 || p.LateRequests < 0 || p.Users < 0 {
				t.Errorf("bad point %+v", p)
			}
		}
	})
}
