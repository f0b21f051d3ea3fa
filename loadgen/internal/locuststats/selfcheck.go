package locuststats

import (
	"math"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/locustproto"
)

// SelfCheckKey is the extra key of a stats message under which a loadgen
// worker sends its generator self-check so far (when its master asked for
// exact histograms, i.e. is a loadgen master). Locust's master reads only
// the keys it knows and ignores it.
const SelfCheckKey = "loadgen_selfcheck"

// EncodeSelfCheck is SelfCheckKey's value: the verdict and the figures it
// rests on, without the warnings' text and the timeline.
func EncodeSelfCheck(sc loadgenjson.SelfCheck) locustproto.Map {
	return locustproto.Map{
		{Key: "valid", Value: sc.Valid},
		{Key: "max_cpu_percent", Value: sc.MaxCPUPercent},
		{Key: "max_schedule_lag_ms", Value: sc.MaxScheduleLagMS},
		{Key: "scheduled_requests", Value: sc.ScheduledRequests},
		{Key: "late_requests", Value: sc.LateRequests},
		{Key: "max_start_lag_ms", Value: sc.MaxStartLagMS},
	}
}

// DecodeSelfCheck reads SelfCheckKey from a stats message's data; ok is
// false when the key is absent or not a map with a boolean "valid" (a
// Python worker, or a malformed value).
func DecodeSelfCheck(data locustproto.Map) (sc loadgenjson.SelfCheck, ok bool) {
	v, found := data.Get(SelfCheckKey)
	m, isMap := v.(locustproto.Map)
	if !found || !isMap {
		return sc, false
	}
	valid, found := m.Get("valid")
	if sc.Valid, ok = valid.(bool); !found || !ok {
		return loadgenjson.SelfCheck{}, false
	}
	num := func(k string) float64 {
		switch x, _ := m.Get(k); n := x.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) || n > 1e15 || n < -1e15 {
				return 0 // outside input: nothing that would overflow an int64
			}
			return n
		case int64:
			return float64(n)
		}
		return 0
	}
	sc.MaxCPUPercent = num("max_cpu_percent")
	sc.MaxScheduleLagMS = num("max_schedule_lag_ms")
	sc.ScheduledRequests = max(int64(num("scheduled_requests")), 0)
	sc.LateRequests = max(int64(num("late_requests")), 0)
	sc.MaxStartLagMS = num("max_start_lag_ms")
	sc.Warnings, sc.Timeline = []string{}, []loadgenjson.Point{}
	return sc, true
}
