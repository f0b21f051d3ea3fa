package ratio

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The expected outputs in testdata/locust were printed by Locust 2.12.1
// (Debian's python3-locust) for testdata/locust/benchmark.py (the seed's
// classes) and testdata/locust/weighted.py; COMMANDS.tsv and README.md say
// which command made which file.

func benchmark() []Class {
	return []Class{
		{Name: "ApiUser", Weight: 1},
		{Name: "ApiAsyncUser", Weight: 1, Tasks: []Task{{Name: "predict", Weight: 1}}},
		{Name: "ApiSyncUser", Weight: 1, Tasks: []Task{{Name: "predict", Weight: 1}}},
	}
}

func weighted() []Class {
	return []Class{
		{Name: "Reader", Weight: 3, Tasks: []Task{{Name: "browse", Weight: 3}, {Name: "search", Weight: 2}, {Name: "home", Weight: 1}}},
		{Name: "Writer", Weight: 1, Tasks: []Task{{Name: "post", Weight: 5}, {Name: "upload", Weight: 2}}},
		{Name: "Idle", Weight: 2, Tasks: []Task{{Name: "ping", Weight: 1}}},
	}
}

// weightedTagRead is weighted.py after Locust's -T read: only the tasks
// tagged read are left.
func weightedTagRead() []Class {
	c := weighted()
	c[0].Tasks = c[0].Tasks[:2]
	c[1].Tasks, c[2].Tasks = nil, nil
	return c
}

// weightedEqual is weighted.py after Locust's --equal-weights
// (assign_equal_weights): weight 1 everywhere, each task once, in reverse order.
func weightedEqual() []Class {
	return []Class{
		{Name: "Reader", Weight: 1, Tasks: []Task{{Name: "home", Weight: 1}, {Name: "search", Weight: 1}, {Name: "browse", Weight: 1}}},
		{Name: "Writer", Weight: 1, Tasks: []Task{{Name: "upload", Weight: 1}, {Name: "post", Weight: 1}}},
		{Name: "Idle", Weight: 1, Tasks: []Task{{Name: "ping", Weight: 1}}},
	}
}

func only(classes []Class, names ...string) []Class {
	var out []Class
	for _, c := range classes {
		for _, n := range names {
			if c.Name == n {
				out = append(out, c)
			}
		}
	}
	return out
}

func locustFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "locust", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShowTaskRatio: --show-task-ratio and --show-task-ratio-json, byte for
// byte. Locust 2.12.1 prints them before it applies -T/-E (at the test's
// start) and --equal-weights (at init), so those flags change nothing here.
func TestShowTaskRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string // testdata/locust/<file>.txt
		classes []Class
		users   int // -u; 0 when not given
		json    bool
	}{
		{"bench_text", benchmark(), 0, false},
		{"bench_json", benchmark(), 0, true},
		{"bench_u0_json", benchmark(), 0, true},
		{"bench_u1_text", benchmark(), 1, false},
		{"bench_u1_json", benchmark(), 1, true},
		{"bench_u2_json", benchmark(), 2, true},
		{"bench_u150_text", benchmark(), 150, false},
		{"bench_async_text", only(benchmark(), "ApiAsyncUser"), 0, false},
		{"bench_async_json", only(benchmark(), "ApiAsyncUser"), 0, true},
		{"bench_apiuser_text", only(benchmark(), "ApiUser"), 0, false},
		{"bench_eq_json", benchmark(), 0, true},
		{"bench_tagx_text", benchmark(), 0, false},
		{"w_text", weighted(), 0, false},
		{"w_json", weighted(), 0, true},
		{"w_both_text", weighted(), 0, false},
		{"w_u1_json", weighted(), 1, true},
		{"w_headless_text", weighted(), 3, false},
		{"w_u4_text", weighted(), 4, false},
		{"w_u5_json", weighted(), 5, true},
		{"w_u7_text", weighted(), 7, false},
		{"w_u7_json", weighted(), 7, true},
		{"w_tread_text", weighted(), 0, false},
		{"w_eslow_json", weighted(), 0, true},
		{"w_eq_text", weighted(), 0, false},
		{"w_eq_json", weighted(), 0, true},
		{"w_writer_text", only(weighted(), "Writer"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := Compute(tt.classes, Distribution(tt.classes, tt.users))
			var got bytes.Buffer
			if tt.json {
				got.Write(r.JSON(ShowTaskRatioJSON))
				got.WriteByte('\n') // print()
			} else if err := r.WriteText(&got); err != nil {
				t.Fatal(err)
			}
			if want := locustFile(t, tt.file+".txt"); !bytes.Equal(got.Bytes(), want) {
				t.Errorf("got:\n%s\nLocust printed:\n%s", got.Bytes(), want)
			}
		})
	}
}

// TestWebTasks: GET /tasks from the live user counts, before, during and
// after a web UI test (the counts are Locust's "All users spawned" line).
func TestWebTasks(t *testing.T) {
	t.Parallel()
	none := map[string]int{}
	tests := []struct {
		file    string // testdata/locust/<file>.json
		classes []Class
		counts  map[string]int
	}{
		{"web_w_tasks_before", weighted(), none},
		{"web_w_tasks_running", weighted(), map[string]int{"Idle": 1, "Reader": 2, "Writer": 1}},
		{"web_w_tasks_stopped", weighted(), none},
		{"web_weq_tasks_before", weightedEqual(), none},
		{"web_weq_tasks_running", weightedEqual(), map[string]int{"Idle": 2, "Reader": 1, "Writer": 1}},
		{"web_weq_tasks_stopped", weightedEqual(), none},
		// Locust filters the tasks when the first test starts, so before it
		// /tasks still shows the tasks -T read will remove.
		{"web_wtread_tasks_before", weighted(), none},
		{"web_wtread_tasks_running", weightedTagRead(), map[string]int{"Idle": 1, "Reader": 1, "Writer": 0}},
		{"web_wtread_tasks_stopped", weightedTagRead(), none},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := append(Compute(tt.classes, tt.counts).JSON(WebJSON), '\n')
			if want := locustFile(t, tt.file+".json"); !bytes.Equal(got, want) {
				t.Errorf("got:\n%s\nLocust answered:\n%s", got, want)
			}
		})
	}
}

// TestReportData: the report's data-tasks attribute (before Locust's
// html.escape), from the user counts when the test stopped.
func TestReportData(t *testing.T) {
	t.Parallel()
	w4 := map[string]int{"Idle": 1, "Reader": 2, "Writer": 1}
	w5 := map[string]int{"Idle": 2, "Reader": 2, "Writer": 1}
	tests := []struct {
		file    string // testdata/locust/<file>_data-tasks.txt
		classes []Class
		counts  map[string]int
	}{
		{"web_w_report_running", weighted(), w4},
		{"web_w_report_stopped", weighted(), w4},
		{"web_weq_report_running", weightedEqual(), map[string]int{"Idle": 2, "Reader": 1, "Writer": 1}},
		{"web_weq_report_stopped", weightedEqual(), map[string]int{"Idle": 2, "Reader": 1, "Writer": 1}},
		{"headless_w5_report", weighted(), w5},
		{"headless_w5_tread_report", weightedTagRead(), w5},
		{"headless_b3_report", benchmark(), map[string]int{"ApiUser": 1, "ApiAsyncUser": 1, "ApiSyncUser": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := string(Compute(tt.classes, tt.counts).JSON(ReportJSON))
			want := html.UnescapeString(strings.TrimSuffix(string(locustFile(t, tt.file+"_data-tasks.txt")), "\n"))
			if got != want {
				t.Errorf("got:\n%s\nLocust wrote:\n%s", got, want)
			}
		})
	}
}

func TestDistribution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		users int
		want  map[string]int
	}{
		{"no -u: one user per unit of weight", 0, map[string]int{"Reader": 3, "Writer": 1, "Idle": 2}},
		{"every share rounds to 0", 1, map[string]int{"Reader": 0, "Writer": 0, "Idle": 0}},
		{"2.5 rounds to even", 5, map[string]int{"Reader": 2, "Writer": 1, "Idle": 2}},
		{"3.5 rounds to even", 7, map[string]int{"Reader": 4, "Writer": 1, "Idle": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distribution(weighted(), tt.users)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestSameNameTasks: tasks sharing a name are one entry with their weights
// added, in the place of the first.
func TestSameNameTasks(t *testing.T) {
	t.Parallel()
	c := []Class{{Name: "U", Weight: 1, Tasks: []Task{{Name: "a", Weight: 1}, {Name: "b", Weight: 2}, {Name: "a", Weight: 1}, {Name: "c"}}}}
	r := Compute(c, map[string]int{"U": 2})
	got := string(r.JSON(ReportJSON))
	want := `{"per_class": {"U": {"ratio": 1.0, "tasks": {"a": {"ratio": 0.4}, "b": {"ratio": 0.4}, "c": {"ratio": 0.2}}}}, "total": {"U": {"ratio": 1.0, "tasks": {"a": {"ratio": 0.4}, "b": {"ratio": 0.4}, "c": {"ratio": 0.2}}}}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONStrings(t *testing.T) {
	t.Parallel()
	c := []Class{{Name: "U", Weight: 1, Tasks: []Task{{Name: "GET /a?q=\"x\"\\é\t😀\x7f", Weight: 1}}}}
	got := string(Compute(c, nil).JSON(ReportJSON))
	want := `{"per_class": {"U": {"ratio": 0.0, "tasks": {"GET /a?q=\"x\"\\\u00e9\t\ud83d\ude00\u007f": {"ratio": 1.0}}}}, "total": {"U": {"ratio": 0.0, "tasks": {"GET /a?q=\"x\"\\\u00e9\t\ud83d\ude00\u007f": {"ratio": 0.0}}}}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
