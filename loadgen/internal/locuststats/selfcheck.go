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

// maxPoints bounds the timeline points read from one message (outside
// input); a worker sends the few seconds since its previous report.
const maxPoints = 3600

// EncodeSelfCheck is SelfCheckKey's value: the verdict and the figures it
// rests on, and the points of sc.Timeline (a worker puts there the seconds
// since its previous report, selfcheck.Monitor.TakeRecent), without the
// warnings' text.
func EncodeSelfCheck(sc loadgenjson.SelfCheck) locustproto.Map {
	points := make([]any, 0, len(sc.Timeline))
	for _, p := range sc.Timeline {
		points = append(points, locustproto.Map{
			{Key: "timestamp", Value: p.Timestamp},
			{Key: "users", Value: int64(p.Users)},
			{Key: "cpu_percent", Value: p.CPUPercent},
			{Key: "max_lag_ms", Value: p.MaxLagMS},
			{Key: "scheduled_requests", Value: p.ScheduledRequests},
			{Key: "late_requests", Value: p.LateRequests},
			{Key: "max_start_lag_ms", Value: p.MaxStartLagMS},
		})
	}
	return locustproto.Map{
		{Key: "valid", Value: sc.Valid},
		{Key: "max_cpu_percent", Value: sc.MaxCPUPercent},
		{Key: "max_schedule_lag_ms", Value: sc.MaxScheduleLagMS},
		{Key: "scheduled_requests", Value: sc.ScheduledRequests},
		{Key: "late_requests", Value: sc.LateRequests},
		{Key: "max_start_lag_ms", Value: sc.MaxStartLagMS},
		{Key: "timeline", Value: points},
	}
}

// DecodeSelfCheck reads SelfCheckKey from a stats message's data; ok is
// false when the key is absent or not a map with a boolean "valid" (a
// Python worker, or a malformed value). Timeline holds the message's
// points (the last maxPoints of them; none from an older loadgen worker),
// each in the order sent; malformed points are skipped.
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
	sc.MaxCPUPercent = num(m, "max_cpu_percent")
	sc.MaxScheduleLagMS = num(m, "max_schedule_lag_ms")
	sc.ScheduledRequests = count(m, "scheduled_requests")
	sc.LateRequests = count(m, "late_requests")
	sc.MaxStartLagMS = num(m, "max_start_lag_ms")
	sc.Warnings, sc.Timeline = []string{}, []loadgenjson.Point{}
	list, _ := m.Get("timeline")
	points, _ := list.([]any)
	if len(points) > maxPoints {
		points = points[len(points)-maxPoints:]
	}
	for _, x := range points {
		p, _ := x.(locustproto.Map)
		raw, _ := p.Get("timestamp")
		ts, isInt := raw.(int64)
		if !isInt || ts <= 0 || ts > 1e15 {
			continue
		}
		sc.Timeline = append(sc.Timeline, loadgenjson.Point{Timestamp: ts, Users: int(count(p, "users")),
			CPUPercent: num(p, "cpu_percent"), MaxLagMS: num(p, "max_lag_ms"),
			ScheduledRequests: count(p, "scheduled_requests"), LateRequests: count(p, "late_requests"),
			MaxStartLagMS: num(p, "max_start_lag_ms")})
	}
	return sc, true
}

// num is m[k] as a number (int or float), 0 when absent or out of range:
// outside input, nothing that would overflow an int64.
func num(m locustproto.Map, k string) float64 {
	switch x, _ := m.Get(k); n := x.(type) {
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) || n > 1e15 || n < -1e15 {
			return 0
		}
		return n
	case int64:
		if n > 1e15 || n < -1e15 {
			return 0
		}
		return float64(n)
	}
	return 0
}

// count is num as a count: never negative.
func count(m locustproto.Map, k string) int64 { return max(int64(num(m, k)), 0) }
