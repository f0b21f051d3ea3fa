package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	stdhtml "html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"predictlab/internal/cli"
	"predictlab/internal/locustcsv"
)

// runArgs runs the command and returns its error and outputs.
func runArgs(ctx context.Context, args ...string) (error, string, string) {
	var stdout, stderr bytes.Buffer
	err := Run(ctx, args, &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

func code(err error) int { return exitCode(err, &bytes.Buffer{}) }

// exitCode is the exit code cli.Main gives run's error, and the one line it
// prints for it.
func exitCode(err error, stderr io.Writer) int {
	var ee *cli.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "loadgen: %v\n", err)
	return 1
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("users:\n  - name: A\n    weight: zero\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badConf := filepath.Join(dir, "c.conf")
	unknownConf := filepath.Join(dir, "u.conf")
	os.WriteFile(badConf, []byte("headless = true\nusers = many\n"), 0o644)
	os.WriteFile(unknownConf, []byte("spawn_rate = 3\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "unknown flag: --bogus"},
		{"bad run time", []string{"-t", "1d"}, "Valid --run-time formats"},
		{"unknown class", []string{"--headless", "-H", "http://127.0.0.1:1", "Nope"}, "Unknown User(s): Nope"},
		{"taskless class alone", []string{"--headless", "-H", "http://127.0.0.1:1", "ApiUser"}, "No tasks defined on ApiUser"},
		{"no host", []string{"--headless", "ApiSyncUser"}, "You must specify the base host"},
		{"bad scenario", []string{"--headless", "-H", "http://127.0.0.1:1", "-f", bad}, "bad.yaml:3: users[0].weight"},
		{"bad config file", []string{"--config", badConf}, "c.conf:2: users = \"many\": invalid argument"},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.conf")}, "read config file: open "},
		{"unknown config key", []string{"--config", unknownConf}, `u.conf:1: unknown key "spawn_rate"`},
		{"unwritable logfile", []string{"--logfile", filepath.Join(dir, "nope", "x.log"), "-l"}, "open --logfile: open "},
		{"missing html dir", []string{"--headless", "-H", "http://127.0.0.1:1", "--html", filepath.Join(dir, "nope", "r.html"), "ApiSyncUser"}, "html: stat " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"html dir is a file", []string{"--headless", "-H", "http://127.0.0.1:1", "--html", filepath.Join(bad, "r.html"), "ApiSyncUser"}, "is not a directory"},
		{"missing csv dir", []string{"--headless", "-H", "http://127.0.0.1:1", "--csv", filepath.Join(dir, "nope", "x"), "ApiSyncUser"}, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, _, stderr := runArgs(context.Background(), tt.args...)
			var buf bytes.Buffer
			if c := exitCode(err, &buf); c != 1 {
				t.Fatalf("exit code %d (err %v), want 1", c, err)
			}
			msg := stderr + buf.String()
			if !strings.Contains(msg, tt.want) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Fatalf("stderr %q: want one line containing %q", msg, tt.want)
			}
		})
	}
	err, stdout, _ := runArgs(context.Background(), "-l")
	if err != nil || stdout != "Available Users:\n    ApiUser\n    ApiAsyncUser\n    ApiSyncUser\n" {
		t.Fatalf("-l: %v %q", err, stdout)
	}
}

// TestInterruptedRunWritesCompleteCSVs runs against a loopback server until
// it has answered enough requests, then cancels the context as Ctrl-C does:
// the run must stop cleanly, exit 1 (404s failed), and leave complete files.
func TestInterruptedRunWritesCompleteCSVs(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 300 {
			cancel(&cli.SignalError{Signal: os.Interrupt})
		}
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"detail": 0.5}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(`users:
  - name: Fast
    wait_time: constant(0)
    tasks:
      - {method: GET, path: /ok, weight: 3}
      - {method: GET, path: /missing}
`), 0o644)
	prefix := filepath.Join(dir, "x")
	err, stdout, stderr := runArgs(ctx, "-f", scen, "--host", srv.URL, "--headless", "-u", "4", "-r", "4",
		"--csv", prefix, "--json", "--only-summary")
	if c := code(err); c != 1 {
		t.Fatalf("exit code %d (%v), want 1\n%s", c, err, stderr)
	}
	for _, want := range []string{"Got SIGINT signal", "Shutting down (exit code 1)", "Error report", "GET /missing: HTTPError('404 Client Error: Not Found for url: " + srv.URL + "/missing')"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	open := func(suffix string) *os.File {
		f, err := os.Open(prefix + suffix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	rows, err := locustcsv.ReadStats(open("_stats.csv"))
	if err != nil || len(rows) != 3 {
		t.Fatalf("stats rows %v, %v", rows, err)
	}
	total := rows[2]
	if total.Name != "Aggregated" || rows[0].Name != "/missing" || rows[1].Name != "/ok" {
		t.Fatalf("rows %+v", rows)
	}
	if total.RequestCount < 290 || total.RequestCount > served.Load() || total.FailureCount != rows[0].RequestCount || rows[0].FailureCount == 0 {
		t.Fatalf("total %+v, served %d", total, served.Load())
	}
	hist, err := locustcsv.ReadHistory(open("_stats_history.csv"))
	if err != nil || len(hist) == 0 || hist[len(hist)-1].TotalRequestCount != total.RequestCount {
		t.Fatalf("history last row must hold the final count %d: %v %v", total.RequestCount, hist, err)
	}
	fails, err := locustcsv.ReadFailures(open("_failures.csv"))
	if err != nil || len(fails) != 1 || fails[0].Occurrences != total.FailureCount {
		t.Fatalf("failures %+v %v", fails, err)
	}
	intended, err := locustcsv.ReadStats(open("_intended.csv"))
	if err != nil || len(intended) != 3 || intended[2].RequestCount != total.RequestCount {
		t.Fatalf("intended %+v %v", intended, err)
	}
	var doc struct {
		Stats []struct {
			Name        string
			NumRequests int64 `json:"num_requests"`
		}
		SelfCheck struct{ Timeline []any } `json:"self_check"`
		Config    struct {
			Users       int
			UserClasses []string `json:"user_classes"`
		}
		ExitCode int `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	if doc.ExitCode != 1 || len(doc.Stats) != 3 || doc.Stats[2].NumRequests != total.RequestCount || doc.Config.Users != 4 {
		t.Fatalf("json doc %+v", doc)
	}
}

// TestRunTimeLimit runs the built-in ApiSyncUser for Locust's smallest run
// time and checks the clean shutdown path (exit 0, log lines in order).
func TestRunTimeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for one second")
	}
	var bodies atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		bodies.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + b.String())
		w.Write([]byte(`{"detail": 0.5}`))
	}))
	defer srv.Close()
	err, _, stderr := runArgs(context.Background(), "--host", srv.URL, "--headless", "-u", "2", "-r", "2", "-t", "1", "ApiSyncUser")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	order := []string{"Run time limit set to 1 seconds", "Starting Locust", "Ramping to 2 users at a rate of 2.00 per second",
		`All users spawned: {"ApiSyncUser": 2} (2 total users)`, "--run-time limit reached, shutting down", "Shutting down (exit code 0)",
		"Response time percentiles (approximated)", "Self-check:"}
	rest := stderr
	for _, want := range order {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("stderr lacks %q (in order):\n%s", want, stderr)
		}
		rest = rest[i+len(want):]
	}
	if got := bodies.Load(); got != "POST /api/v1/ml/sync/predict application/json [5.1, 3.5, 1.4, 0.2]" {
		t.Errorf("request = %q", got)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected cancel")
	}
}

// TestLogFileAndTags runs a tagged scenario with --logfile and the other
// settings from ./locust.conf, as Locust 2.12.1 did side by side: log lines
// are appended to the file, the stats tables stay on stderr, -T keeps only
// the tagged tasks, and a class left without tasks gets Locust's warning and
// raises (exit 1).
func TestLogFileAndTags(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var served atomic.Int64
	var paths sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, true)
		if served.Add(1) == 20 {
			cancel(&cli.SignalError{Signal: os.Interrupt})
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Chdir(dir)
	os.WriteFile("s.yaml", []byte(`users:
  - name: Tagged
    wait_time: constant(0)
    tasks:
      - {path: /x, tags: [x]}
      - {path: /y, tags: [y, z]}
      - {path: /n}
  - name: Other
    wait_time: constant(0)
    tasks:
      - {path: /other, tags: [y]}
`), 0o644)
	os.WriteFile("locust.conf", []byte("locustfile = s.yaml\nheadless = true\nusers = 2\nspawn-rate = 2\nlogfile = out.log\ntags = [x]\nhost = "+srv.URL+"\n"), 0o644)
	os.WriteFile("out.log", []byte("earlier line\n"), 0o644)

	err, stdout, stderr := runArgs(ctx)
	if c := code(err); c != 1 {
		t.Fatalf("exit code %d (%v), want 1 (Other raises)\n%s", c, err, stderr)
	}
	logged, rerr := os.ReadFile("out.log")
	if rerr != nil {
		t.Fatal(rerr)
	}
	log := string(logged)
	order := []string{"earlier line\n", "/INFO/locust.main: No run time limit set, use CTRL+C to interrupt", "/INFO/locust.main: Starting Locust",
		"/WARNING/root: Other had no tasks left after filtering, instantiating it will fail!",
		"/INFO/locust.runners: Ramping to 2 users", "/INFO/locust.main: Got SIGINT signal", "/INFO/locust.main: Shutting down (exit code 1)",
		"/loadgen.selfcheck: Self-check:"}
	rest := log
	for _, want := range order {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("log file lacks %q (in order):\n%s", want, log)
		}
		rest = rest[i+len(want):]
	}
	if strings.Contains(log, "Type     Name") || strings.Contains(log, "Response time percentiles") {
		t.Errorf("a stats table went to the log file:\n%s", log)
	}
	for _, want := range []string{"Type     Name", "Response time percentiles (approximated)", "GET      /x"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks the table line %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "/INFO/") || strings.Contains(stderr, "/WARNING/") || stdout != "" {
		t.Errorf("log lines outside the log file:\nstderr:\n%s\nstdout:\n%s", stderr, stdout)
	}
	paths.Range(func(k, _ any) bool {
		if k != "/x" {
			t.Errorf("-T x sent a request to %s", k)
		}
		return true
	})
}

// TestTagsLeaveNoTask: when -T/-E leave no task in the classes named, each
// gets Locust's warning, then the run is refused as for a class without
// tasks (see COMPAT.md).
func TestTagsLeaveNoTask(t *testing.T) {
	scen := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(scen, []byte("users:\n  - name: A\n    tasks:\n      - {path: /x, tags: [x]}\n  - name: B\n    tasks:\n      - {path: /y}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"include", []string{"-T", "nope", "--", "A"}, []string{"WARNING/root: A had no tasks left after filtering, instantiating it will fail!", "ERROR/locust.main: No tasks defined on A."}},
		{"exclude", []string{"-E", "x", "y", "--headless", "A"}, []string{"WARNING/root: A had no tasks left after filtering, instantiating it will fail!", "ERROR/locust.main: No tasks defined on A."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-f", scen, "--headless", "-H", "http://127.0.0.1:1"}, tt.args...)
			err, _, stderr := runArgs(context.Background(), args...)
			if c := code(err); c != 1 {
				t.Fatalf("exit code %d (%v)\n%s", c, err, stderr)
			}
			rest := stderr
			for _, want := range tt.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%s", want, stderr)
				}
				rest = rest[i+len(want):]
			}
			if strings.Contains(stderr, "B had no tasks") {
				t.Errorf("warned about a class not selected:\n%s", stderr)
			}
		})
	}
}

// TestLogFileGetsErrors: errors Locust logs (after setting up logging) go to
// --logfile, while the bare [DEPRECATED] line stays on stderr; -l with a bad
// -t still lists, as Locust checks -t after listing.
func TestLogFileGetsErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name           string
		args           []string
		code           int
		inFile, stderr string
	}{
		{"bad run time", []string{"--hatch-rate", "3", "-t", "1.5h"}, 1, "ERROR/locust.main: Valid --run-time formats are", "[DEPRECATED] The --hatch-rate parameter has been renamed --spawn-rate\n"},
		{"unknown class", []string{"--headless", "Nope"}, 1, "ERROR/locust.main: Unknown User(s): Nope", ""},
		{"list with a bad run time", []string{"-l", "-t", "1.5h"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logfile := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".log")
			err, _, stderr := runArgs(context.Background(), append([]string{"--logfile", logfile}, tt.args...)...)
			if c := code(err); c != tt.code {
				t.Fatalf("exit code %d (%v), want %d", c, err, tt.code)
			}
			got, rerr := os.ReadFile(logfile)
			if rerr != nil {
				t.Fatalf("log file not created: %v", rerr)
			}
			if !strings.Contains(string(got), tt.inFile) || tt.inFile == "" && len(got) != 0 || strings.Count(string(got), "\n") > 1 {
				t.Errorf("log file %q, want one line with %q", got, tt.inFile)
			}
			if stderr != tt.stderr {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
		})
	}
}

// TestShowTaskRatio: --show-task-ratio(-json) print what Locust 2.12.1
// printed for the same classes (internal/ratio/testdata/locust), exit 0, and
// run before -T/-E, --equal-weights, -t and the host check, as Locust's do.
func TestShowTaskRatio(t *testing.T) {
	dir := t.TempDir()
	// weighted.py as a scenario: tasks named as the Python functions, but
	// one, left unnamed, shown as its method and path.
	scen := filepath.Join(dir, "weighted.yaml")
	os.WriteFile(scen, []byte(`users:
  - name: Reader
    weight: 3
    tasks:
      - {path: /browse, name: browse, weight: 3, tags: [read]}
      - {path: /search, name: search, weight: 2, tags: [read, slow]}
      - {path: /, name: home}
  - name: Writer
    tasks:
      - {method: POST, path: /post, name: post, weight: 5, tags: [write]}
      - {method: POST, path: /upload, name: upload, weight: 2, tags: [slow]}
  - name: Idle
    weight: 2
    tasks:
      - {path: /ping, name: ping}
`), 0o644)
	unnamed := filepath.Join(dir, "unnamed.yaml")
	os.WriteFile(unnamed, []byte("users:\n  - name: U\n    tasks:\n      - {path: /a, weight: 3}\n      - {method: POST, path: /b}\n"), 0o644)
	locust := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "internal", "ratio", "testdata", "locust", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"built-in", []string{"--show-task-ratio"}, locust("bench_text")},
		{"built-in json", []string{"--show-task-ratio-json"}, locust("bench_json")},
		{"-f benchmark.py -u 1", []string{"-f", "benchmark.py", "--show-task-ratio", "-u", "1"}, locust("bench_u1_text")},
		{"-u 150", []string{"--show-task-ratio", "-u", "150"}, locust("bench_u150_text")},
		{"one class", []string{"--show-task-ratio-json", "ApiAsyncUser"}, locust("bench_async_json")},
		{"taskless class alone", []string{"--show-task-ratio", "ApiUser"}, locust("bench_apiuser_text")},
		{"-T ignored", []string{"--show-task-ratio", "-T", "nosuch"}, locust("bench_tagx_text")},
		{"--equal-weights ignored", []string{"--show-task-ratio-json", "--equal-weights"}, locust("bench_eq_json")},
		{"text wins over json", []string{"--show-task-ratio", "--show-task-ratio-json", "-f", scen}, locust("w_both_text")},
		{"bad -t, no host, headless", []string{"--show-task-ratio", "--headless", "-t", "bogus", "-f", scen, "-u", "3"}, locust("w_headless_text")},
		{"scenario -u 7", []string{"--show-task-ratio", "-f", scen, "-u", "7"}, locust("w_u7_text")},
		{"scenario json -u 5", []string{"--show-task-ratio-json", "-f", scen, "-u", "5"}, locust("w_u5_json")},
		{"scenario -E slow", []string{"--show-task-ratio-json", "-f", scen, "-E", "slow"}, locust("w_eslow_json")},
		{"scenario class", []string{"--show-task-ratio", "-f", scen, "Writer"}, locust("w_writer_text")},
		{"unnamed tasks", []string{"--show-task-ratio", "-f", unnamed}, `
 Task ratio per User class
--------------------------------------------------------------------------------
 100.0      U                                                 
   75.0       GET /a                                          
   25.0       POST /b                                         

 Total task ratio
--------------------------------------------------------------------------------
 100.0      U                                                 
   75.0       GET /a                                          
   25.0       POST /b                                         
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, stdout, stderr := runArgs(context.Background(), tt.args...)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, stderr)
			}
			if stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant (Locust's):\n%s", stdout, tt.want)
			}
			if strings.Contains(stderr, "WARNING") || strings.Contains(stderr, "ERROR") {
				t.Errorf("stderr:\n%s", stderr)
			}
		})
	}
	err, stdout, stderr := runArgs(context.Background(), "--show-task-ratio", "Nope")
	if code(err) != 1 || stdout != "" || !strings.Contains(stderr, "Unknown User(s): Nope") {
		t.Errorf("unknown class: exit %d, stdout %q, stderr %q", code(err), stdout, stderr)
	}
}

// TestEqualWeightsFinalRatio: --equal-weights gives every class and task
// weight 1 (so 4 users split 2/2 instead of 3/1, and each task is as likely),
// and the --html report's "Final ratio" is from the users at the stop, with
// the tasks in Locust's reversed order and its data-tasks JSON.
func TestEqualWeightsFinalRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for one second")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(`users:
  - name: Reader
    weight: 3
    wait_time: constant(1)
    tasks:
      - {path: /browse, name: browse, weight: 3}
      - {path: /search, name: search}
  - name: Idle
    wait_time: constant(1)
    tasks:
      - {path: /ping, name: ping}
`), 0o644)
	html := filepath.Join(dir, "r.html")
	err, stdout, stderr := runArgs(context.Background(), "--host", srv.URL, "--headless", "-u", "4", "-r", "4", "-t", "1",
		"--only-summary", "--equal-weights", "--html", html, "--json", "-E", "untagged", "-f", scen)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	// --json records the settings that shaped the workload.
	var doc struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if doc.Config["equal_weights"] != true || fmt.Sprint(doc.Config["exclude_tags"]) != "[untagged]" || doc.Config["tags"] != nil {
		t.Errorf("--json config %v", doc.Config)
	}
	if !strings.Contains(stderr, `All users spawned: {"Idle": 2, "Reader": 2} (4 total users)`) {
		t.Errorf("users not split equally:\n%s", stderr)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`data-tasks="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the report has no data-tasks")
	}
	want := `{"per_class": {"Reader": {"ratio": 0.5, "tasks": {"search": {"ratio": 0.5}, "browse": {"ratio": 0.5}}}, "Idle": {"ratio": 0.5, "tasks": {"ping": {"ratio": 1.0}}}}, ` +
		`"total": {"Reader": {"ratio": 0.5, "tasks": {"search": {"ratio": 0.25}, "browse": {"ratio": 0.25}}}, "Idle": {"ratio": 0.5, "tasks": {"ping": {"ratio": 0.5}}}}}`
	if got := stdhtml.UnescapeString(string(m[1])); got != want {
		t.Errorf("data-tasks:\n%s\nwant\n%s", got, want)
	}
	if !bytes.Contains(b, []byte(`<tr class="task"><td class="name">browse</td><td class="pct">25.0%</td>`)) {
		t.Error("the report does not show the total ratio of browse")
	}
}

// --version prints the one version line of the three programs, "NAME VERSION
// (commit COMMIT)": Locust's "locust 2.12.1" shape, name then version.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--version", "-V"} {
		err, stdout, stderr := runArgs(context.Background(), arg)
		if err != nil || stdout != cli.VersionLine("loadgen")+"\n" || stderr != "" {
			t.Errorf("%s: %v, stdout %q, stderr %q", arg, err, stdout, stderr)
		}
		if f := strings.Fields(stdout); len(f) < 2 || f[0] != "loadgen" || f[1] != cli.Version {
			t.Errorf("%s: %q does not start with the name and version", arg, stdout)
		}
	}
}

// TestOutputErrorKeepsJSON is the review's R12: when one output cannot be
// written at the end (here the --html folder vanished during the run), the
// others are still written, --json included, and the run exits 2.
func TestOutputErrorKeepsJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	htmlDir := filepath.Join(dir, "reports")
	if err := os.Mkdir(htmlDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 20 {
			os.RemoveAll(htmlDir)
			cancel(&cli.SignalError{Signal: os.Interrupt})
		}
		w.Write([]byte(`{"detail": 0.5}`))
	}))
	defer srv.Close()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte("users:\n  - name: Fast\n    wait_time: constant(0)\n    tasks:\n      - {method: GET, path: /ok}\n"), 0o644)
	prefix := filepath.Join(dir, "x")
	err, stdout, stderr := runArgs(ctx, "-f", scen, "--host", srv.URL, "--headless", "-u", "2", "-r", "2",
		"--csv", prefix, "--html", filepath.Join(htmlDir, "r.html"), "--json", "--only-summary")
	var buf bytes.Buffer
	if c := exitCode(err, &buf); c != 2 || !strings.Contains(buf.String(), "r.html") {
		t.Fatalf("exit code %d (%q), want 2 naming the report\n%s", c, buf.String(), stderr)
	}
	var doc struct {
		Stats []struct {
			NumRequests int64 `json:"num_requests"`
		}
	}
	// The 20th request cancels the run while it is being answered, so it may not be counted,
	// and neither may the other user's request, answered but not yet read at that moment.
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Stats) != 2 || doc.Stats[1].NumRequests < 18 {
		t.Fatalf("--json lost: %v %q", err, stdout)
	}
	f, err := os.Open(prefix + "_stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, err := locustcsv.ReadStats(f); err != nil || len(rows) != 2 || rows[1].RequestCount != doc.Stats[1].NumRequests {
		t.Fatalf("final CSV %+v %v", rows, err)
	}
}

// TestRequestTimeoutRun is the review's R15 end to end: against a target
// that accepts and never answers, --request-timeout turns the hung requests
// into failures, counted and reported as Locust counts a timeout (without
// it the run reported 0 requests and exit 0).
func TestRequestTimeoutRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 1 s")
	}
	t.Parallel()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // hung: answers nothing until the client goes
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done) // before Close, which waits for the handlers
	err, stdout, stderr := runArgs(context.Background(), "-H", srv.URL, "--headless", "-u", "2", "-r", "2", "-t", "1s",
		"--request-timeout", "0.2", "--json", "--only-summary", "ApiSyncUser")
	if c := code(err); c != 1 {
		t.Fatalf("exit code %d (%v), want 1\n%s", c, err, stderr)
	}
	if !strings.Contains(stderr, `ReadTimeout(ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=`) ||
		!strings.Contains(stderr, `Read timed out. (read timeout=0.2)")`) {
		t.Errorf("error report lacks the ReadTimeout failure:\n%s", stderr)
	}
	var doc struct {
		Stats []struct {
			NumRequests int64 `json:"num_requests"`
			NumFailures int64 `json:"num_failures"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Stats) != 2 ||
		doc.Stats[1].NumFailures == 0 || doc.Stats[1].NumFailures != doc.Stats[1].NumRequests {
		t.Fatalf("json %v %+v", err, doc)
	}
}

// --json names the config files that were read (R22: a ./locust.conf in an
// untrusted folder changes a run silently, as in Locust; the document shows
// it afterwards) and the request timeout.
func TestJSONConfigFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 1 s")
	}
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"detail": 0.5}`))
	}))
	defer srv.Close()
	conf := filepath.Join(t.TempDir(), "c.conf")
	os.WriteFile(conf, []byte("users = 1\nspawn-rate = 1\n"), 0o644)
	err, stdout, stderr := runArgs(context.Background(), "--config", conf, "-H", srv.URL, "--headless", "-t", "1s",
		"--request-timeout", "2.5", "--json", "--only-summary", "ApiSyncUser")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var doc struct {
		Config struct {
			Users           int
			RequestTimeoutS float64  `json:"request_timeout_s"`
			ConfigFiles     []string `json:"config_files"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Config.Users != 1 ||
		doc.Config.RequestTimeoutS != 2.5 || len(doc.Config.ConfigFiles) != 1 || doc.Config.ConfigFiles[0] != conf {
		t.Fatalf("json config %v %+v", err, doc.Config)
	}
}
