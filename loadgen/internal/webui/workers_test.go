package webui

import (
	"reflect"
	"testing"
)

// A distributed master's /stats/requests lists its workers as Locust's
// master does (id, state, user_count, cpu_usage, memory_usage); a single
// process has no "workers" key.
func TestStatsRequestsWorkers(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, func(o *Options) {
		o.Workers = func() []Worker {
			return []Worker{{ID: "vm_0123", State: "running", UserCount: 50, CPUUsage: 12.5, MemoryUsage: 52428800}}
		}
	})
	m := decode(t, do(t, srv.Handler(), "GET", "/stats/requests", nil))
	want := []any{map[string]any{"id": "vm_0123", "state": "running", "user_count": 50.0, "cpu_usage": 12.5, "memory_usage": 52428800.0}}
	if !reflect.DeepEqual(m["workers"], want) {
		t.Errorf("workers = %#v, want %#v", m["workers"], want)
	}

	srv, _ = newTestServer(t, func(o *Options) { o.Workers = func() []Worker { return nil } })
	m = decode(t, do(t, srv.Handler(), "GET", "/stats/requests", nil))
	if w, ok := m["workers"].([]any); !ok || len(w) != 0 {
		t.Errorf("no workers yet: %#v, want []", m["workers"])
	}

	srv, _ = newTestServer(t, nil)
	if _, ok := decode(t, do(t, srv.Handler(), "GET", "/stats/requests", nil))["workers"]; ok {
		t.Error("a single process lists workers")
	}
}
