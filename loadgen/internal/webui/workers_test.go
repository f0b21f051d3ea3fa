package webui

import (
	"reflect"
	"strings"
	"testing"

	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
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

// A distributed master's /stats/history says whose seconds the self-check
// chart shows, and the page has where to show it; a single process's
// verdict has no note.
func TestHistorySelfCheckNote(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, func(o *Options) {
		o.Report = func(s *stats.Snapshot) *report.Data {
			d := testReport(s)
			d.SelfCheck.TimelineNote = report.TimelineWorkersNote
			return d
		}
	})
	verdict, _ := decode(t, do(t, srv.Handler(), "GET", "/stats/history", nil))["verdict"].(map[string]any)
	if got := verdict["timeline_note"]; got != report.TimelineWorkersNote {
		t.Errorf("timeline_note = %#v, want the workers' note", got)
	}
	if !strings.Contains(do(t, srv.Handler(), "GET", "/", nil).Body.String(), `id="check-note"`) {
		t.Error("page has no place for the note")
	}

	srv, _ = newTestServer(t, nil)
	verdict, _ = decode(t, do(t, srv.Handler(), "GET", "/stats/history", nil))["verdict"].(map[string]any)
	if _, ok := verdict["timeline_note"]; ok || verdict == nil {
		t.Errorf("a single process's verdict %#v has a timeline note", verdict)
	}
}
