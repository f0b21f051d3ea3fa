package experiment

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/lab/internal/proc"
)

func TestArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"seed form with html", Spec{Name: "load_test_sync", Dir: "out", Host: "http://127.0.0.1:5001", Users: 300, SpawnRate: 1, RunTime: 300 * time.Second, UserClass: "ApiSyncUser", HTML: true},
			"--host http://127.0.0.1:5001 --headless -u 300 -r 1 -t 300s --csv out/load_test_sync --html out/load_test_sync.html --only-summary --json ApiSyncUser"},
		{"no html, full history, fractional rate", Spec{Name: "x_async", Dir: "o", Host: "http://h:8001", Users: 5, SpawnRate: 2.5, RunTime: 3 * time.Second, UserClass: "ApiAsyncUser", FullHistory: true},
			"--host http://h:8001 --headless -u 5 -r 2.5 -t 3s --csv o/x_async --csv-full-history --only-summary --json ApiAsyncUser"},
		{"master of 2 workers", Spec{Name: "x_sync", Dir: "o", Host: "http://h:5001", Users: 30, SpawnRate: 10, RunTime: 4 * time.Second, UserClass: "ApiSyncUser", Workers: 2, MasterPort: 40123},
			"--host http://h:5001 --headless -u 30 -r 10 -t 4s --csv o/x_sync --master --master-bind-host 127.0.0.1 --master-bind-port 40123 --expect-workers 2 --expect-workers-max-wait 60 --only-summary --json ApiSyncUser"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(tc.spec.Args(), " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestWorkerArgs(t *testing.T) {
	t.Parallel()
	s := Spec{Name: "x_sync", Dir: "o", UserClass: "ApiSyncUser", Workers: 2, MasterPort: 40123}
	if got, want := strings.Join(s.WorkerArgs(), " "), "--worker --master-host 127.0.0.1 --master-port 40123 ApiSyncUser"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := s.LogPath(2), filepath.Join("o", "logs", "x_sync.worker-2.log"); got != want {
		t.Errorf("LogPath(2) = %s, want %s", got, want)
	}
}

const sampleJSON = `{"stats":[{"method":"POST","name":"/api/v1/ml/sync/predict","num_requests":10,"num_failures":0,"avg_response_time":91,"min_response_time":90,"max_response_time":93,"median_response_time":91,"total_rps":1,"percentiles":{"50":91,"95":93}},
{"method":"","name":"Aggregated","num_requests":10,"num_failures":0,"avg_response_time":91,"min_response_time":90,"max_response_time":93,"median_response_time":91,"total_rps":1,"percentiles":{"50":91,"95":93}}],
"intended":[{"method":"","name":"Aggregated","num_requests":10,"median_response_time":92,"percentiles":{"50":92}}],
"self_check":{"valid":true,"max_cpu_percent":12.5,"max_schedule_lag_ms":1.5,"warnings":[],"timeline":[{"timestamp":1700000000,"users":1,"cpu_percent":3,"max_lag_ms":0.4}]},
"config":{"host":"http://x","users":1},"start_time":1700000000.5,"end_time":1700000010.5,"exit_code":0}`

// TestRunFakeLoadgen runs a shell script standing in for loadgen.
func TestRunFakeLoadgen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-loadgen")
	body := "#!/bin/sh\n" +
		"for a in \"$@\"; do case $prev in --csv) p=$a;; esac; prev=$a; done\n" +
		"printf 'Type,Name\\r\\n' > \"${p}_stats.csv\"\n" +
		"echo 'some console line' >&2\n" +
		"printf '%s' '" + strings.ReplaceAll(sampleJSON, "\n", "") + "'\n" +
		"exit 1\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	sup := proc.New(zerolog.Nop(), time.Second)
	defer sup.StopAll()
	spec := Spec{Name: "response_time_sync", Dir: dir, Loadgen: script, Host: "http://x", Users: 1, SpawnRate: 1, RunTime: time.Second, UserClass: "ApiSyncUser"}
	out, err := Run(context.Background(), sup, spec, nil)
	if err != nil {
		t.Fatalf("exit 1 with files should be data, got %v", err)
	}
	if out.ExitCode != 1 || out.JSON == nil {
		t.Errorf("outcome = %+v", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "response_time_sync.loadgen.log")); err != nil {
		t.Error(err)
	}
	spec.Loadgen = "/bin/false"
	spec.Name = "missing"
	if _, err := Run(context.Background(), sup, spec, nil); err == nil {
		t.Error("no result files accepted")
	}
}

// loadgen runs without the user's Locust settings: no LOCUST_* variable, an
// empty HOME and working directory, so neither ~/.locust.conf nor a
// ./locust.conf where the lab was started reaches it.
func TestRunHermetic(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".locust.conf"), []byte("reset-stats = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("LOCUST_LOCUSTFILE", "mine.py")
	t.Chdir(dir)
	if err := os.WriteFile("locust.conf", []byte("tags = [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "fake-loadgen")
	body := "#!/bin/sh\n" +
		"for a in \"$@\"; do case $prev in --csv) p=$a;; esac; prev=$a; done\n" +
		"printf 'Type,Name\\r\\n' > \"${p}_stats.csv\"\n" +
		"{ pwd; echo \"HOME=$HOME\"; env | grep '^LOCUST_'; ls -A; ls -A \"$HOME\"; } > \"${p}_env.txt\"\n" +
		"printf '%s' '" + strings.ReplaceAll(sampleJSON, "\n", "") + "'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	sup := proc.New(zerolog.Nop(), time.Second)
	defer sup.StopAll()
	// Relative paths, as make lab passes them (bin/loadgen, output/<run>).
	if err := os.Mkdir("out", 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "r", Dir: "out", Loadgen: "./fake-loadgen", Host: "http://x", Users: 1, SpawnRate: 1, RunTime: time.Second, UserClass: "ApiSyncUser"}
	if _, err := Run(context.Background(), sup, spec, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("out", "r_env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[1] != "HOME="+lines[0] || lines[0] == dir || lines[0] == home {
		t.Fatalf("loadgen saw (pwd, HOME, LOCUST_*, files in pwd and HOME):\n%s\nwant an empty directory as both, and no LOCUST_ variable", b)
	}
}

// fakeDistributed writes a loadgen stand-in for a distributed run: as a
// master (no --worker) it listens on its --master-bind-port for
// masterSeconds, writes the stats file and exits 0; as a worker it runs
// workerBody.
func fakeDistributed(t *testing.T, masterSeconds int, workerBody string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 (the fake master's listener) not installed")
	}
	script := filepath.Join(t.TempDir(), "fake-loadgen")
	body := "#!/bin/sh\n" +
		"if [ \"$1\" = --worker ]; then\n" + workerBody + "\nfi\n" +
		"for a in \"$@\"; do case $prev in --csv) p=$a;; --master-bind-port) port=$a;; esac; prev=$a; done\n" +
		"python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(); time.sleep(float(sys.argv[2]))' \"$port\" " + strconv.Itoa(masterSeconds) + "\n" +
		"printf 'Type,Name\\r\\n' > \"${p}_stats.csv\"\n" +
		"printf '%s' '" + strings.ReplaceAll(sampleJSON, "\n", "") + "'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestRunDistributed: a master and two workers; the workers start once
// the master listens, get their own logs, and exit when it has.
func TestRunDistributed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The worker logs its arguments and exits 0 once the master is gone
	// (a real worker exits on the master's quit).
	script := fakeDistributed(t, 1, "echo \"worker $*\"; exit 0")
	sup := proc.New(zerolog.Nop(), time.Second)
	defer sup.StopAll()
	port, err := proc.FreePort(MasterHost)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "load_test_sync", Dir: dir, Loadgen: script, Host: "http://x", Users: 2, SpawnRate: 2, RunTime: time.Second,
		UserClass: "ApiSyncUser", Workers: 2, MasterPort: port}
	out, err := Run(context.Background(), sup, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.ExitCode != 0 || !slices.Equal(out.WorkerExits, []int{0, 0}) {
		t.Errorf("master exit %d, workers %v; want 0 and [0 0]", out.ExitCode, out.WorkerExits)
	}
	for i := 1; i <= 2; i++ {
		b, err := os.ReadFile(spec.LogPath(i))
		if want := "worker " + strings.Join(spec.WorkerArgs(), " "); err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("worker %d log: %q (%v), want %q", i, b, err, want)
		}
	}
}

// TestRunDistributedWorkerFails: a worker that exits non-zero while its
// master runs ends the experiment with an error naming it, and the
// master is stopped.
func TestRunDistributedWorkerFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := fakeDistributed(t, 60, "echo 'cannot reach the master' >&2; exit 3")
	sup := proc.New(zerolog.Nop(), time.Second)
	defer sup.StopAll()
	port, err := proc.FreePort(MasterHost)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "load_test_sync", Dir: dir, Loadgen: script, Host: "http://x", Users: 2, SpawnRate: 2, RunTime: time.Minute,
		UserClass: "ApiSyncUser", Workers: 2, MasterPort: port}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := Run(ctx, sup, spec, nil)
	if err == nil || !strings.Contains(err.Error(), "worker") || !strings.Contains(err.Error(), "exited with 3") || !strings.Contains(err.Error(), "cannot reach the master") {
		t.Fatalf("got %v, want an error naming the worker, its exit code and its log", err)
	}
	if ctx.Err() != nil {
		t.Error("Run waited for the master instead of ending at the worker's failure")
	}
	if len(out.WorkerExits) != 2 {
		t.Errorf("worker exits %v, want 2", out.WorkerExits)
	}
}
