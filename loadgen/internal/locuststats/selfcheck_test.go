package locuststats

import (
	"reflect"
	"testing"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/locustproto"
)

// A worker's self-check survives the msgpack encoding; a Python worker's
// report (no key) and malformed values give none.
func TestSelfCheckRoundTrip(t *testing.T) {
	t.Parallel()
	want := loadgenjson.SelfCheck{Valid: false, MaxCPUPercent: 93.5, MaxScheduleLagMS: 12.125, ScheduledRequests: 4000,
		LateRequests: 77, MaxStartLagMS: 3.5, Warnings: []string{}, Timeline: []loadgenjson.Point{}}
	full := want
	full.Warnings, full.Timeline = []string{"dropped"}, []loadgenjson.Point{{Timestamp: 1}}
	for _, tc := range []struct {
		name string
		data locustproto.Map
		ok   bool
	}{
		{"loadgen worker", locustproto.Map{{Key: "user_count", Value: int64(3)}, {Key: SelfCheckKey, Value: EncodeSelfCheck(full)}}, true},
		{"python worker", locustproto.Map{{Key: "user_count", Value: int64(3)}}, false},
		{"not a map", locustproto.Map{{Key: SelfCheckKey, Value: "yes"}}, false},
		{"no verdict", locustproto.Map{{Key: SelfCheckKey, Value: locustproto.Map{{Key: "max_cpu_percent", Value: 1.0}}}}, false},
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
			if ok != tc.ok || (ok && !reflect.DeepEqual(got, want)) {
				t.Errorf("DecodeSelfCheck = %+v, %v; want %+v, %v", got, ok, want, tc.ok)
			}
		})
	}
}

// FuzzDecodeSelfCheck: whatever a peer sends under the key, decoding does
// not panic and gives no negative counts.
func FuzzDecodeSelfCheck(f *testing.F) {
	b, _ := locustproto.Encode(locustproto.Message{Type: locustproto.TypeStats, NodeID: "w",
		Data: locustproto.Map{{Key: SelfCheckKey, Value: EncodeSelfCheck(loadgenjson.SelfCheck{Valid: true, ScheduledRequests: 5, LateRequests: 1})}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		msg, err := locustproto.Decode(in)
		if err != nil {
			return
		}
		data, _ := msg.Data.(locustproto.Map)
		if sc, ok := DecodeSelfCheck(data); ok && (sc.ScheduledRequests < 0 || sc.LateRequests < 0) {
			t.Errorf("negative counts %+v", sc)
		}
	})
}
