package command

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"predictlab/loadgen/internal/locusttest"
)

// buildEnv is the environment before TestMain points HOME at an empty
// directory: go build needs the real module and build caches.
var buildEnv = os.Environ()

// loadgenBinary builds loadgen once for the distributed tests, which run
// it as worker processes (exit codes, SIGKILL). It lives at a fixed path in
// the temporary directory, replaced by an atomic rename on every run, so
// runs leave one file behind, not one each.
var loadgenBinary = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(os.TempDir(), "predictlab-loadgen-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "loadgen-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "predictlab/loadgen")
	cmd.Env = buildEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "loadgen")
	if err := os.Rename(tmp.Name(), bin); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return bin, nil
})

// workerProc is a `loadgen --worker` child process.
type workerProc struct {
	cmd  *exec.Cmd
	out  *locusttest.Buffer
	done chan struct{}
	err  error
}

func startWorkerProc(t *testing.T, port int) *workerProc {
	t.Helper()
	return startLoadgenProc(t, "--worker", "--master-host", "127.0.0.1", "--master-port", strconv.Itoa(port))
}

// wait waits up to d for the worker to exit and returns its exit code.
func (p *workerProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("worker still running after %s; output:\n%s", d, p.out)
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

var totalsRE = regexp.MustCompile(`sent (\d+) requests, (\d+) failures in (\d+) reports \(final report: (\d+)\)`)

// totals parses the worker's closing line.
func (p *workerProc) totals(t *testing.T) (sent, failures, reports, final int64) {
	t.Helper()
	m := totalsRE.FindStringSubmatch(p.out.String())
	if m == nil {
		t.Fatalf("no totals line in the worker's output:\n%s", p.out)
	}
	n := make([]int64, 4)
	for i := range n {
		n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
	}
	return n[0], n[1], n[2], n[3]
}

var lostRE = regexp.MustCompile(`Lost the connection to master .*\(sent (\d+) requests so far\)`)

func waitOutput(t *testing.T, out *locusttest.Buffer, re string, d time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for !rx.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %s in:\n%s", re, d, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statsCSVAggregated reads the Aggregated Request Count of a _stats.csv.
func statsCSVAggregated(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if len(r) > 2 && r[1] == "Aggregated" {
			n, _ := strconv.ParseInt(r[2], 10, 64)
			return n
		}
	}
	t.Fatalf("no Aggregated row in %s", path)
	return 0
}

// Issue 14's acceptance test: Debian's real Locust 2.12.1 master, two
// `loadgen --worker` processes, 100 users for 20 s against a stub.
func TestDistributedWorkersRealMaster(t *testing.T) {
	locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 10*time.Millisecond)
	port := locusttest.FreePort(t)
	dir := t.TempDir()
	m := locusttest.StartMaster(t, port, "--headless", "--expect-workers", "2", "--expect-workers-max-wait", "30",
		"-u", "100", "-r", "100", "-t", "20s", "--csv", dir+"/m", "--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}

	if code := m.Wait(t, 60*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.Out)
	}
	var sent, finals int64
	for i, w := range ws {
		if code := w.wait(t, 5*time.Second); code != 0 {
			t.Errorf("worker %d exit code %d; output:\n%s", i, code, w.out)
		}
		n, f, k, final := w.totals(t)
		sent += n
		finals += final
		if f != 0 || k < 5 {
			t.Errorf("worker %d: %d failures in %d reports", i, f, k)
		}
		if !strings.Contains(w.out.String(), `Spawned {"ApiAsyncUser": 0, "ApiSyncUser": 50, "ApiUser": 0} (50 total users)`) {
			t.Errorf("worker %d did not get 50 users:\n%s", i, w.out)
		}
		if strings.Contains(w.out.String(), "Name   ") {
			t.Errorf("worker %d printed a stats table:\n%s", i, w.out)
		}
	}
	out := m.Out.String()
	rows, err := locusttest.FinalTable(out)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	const path = "/api/v1/ml/sync/predict"
	if agg, ep := rows["Aggregated"], rows["POST "+path]; agg.Requests != sent || ep.Requests != sent || agg.Fails != 0 {
		t.Errorf("master's final table: %+v, %+v; workers sent %d", agg, ep, sent)
	}
	// Locust rewrites _stats.csv every second and not at exit: it may miss
	// the final reports (the known 2.12.1 race), nothing else.
	if n := statsCSVAggregated(t, dir+"/m_stats.csv"); n != sent {
		if n == sent-finals {
			t.Logf("m_stats.csv has %d = sent - final reports: Locust 2.12.1's CSV race", n)
		} else {
			t.Errorf("m_stats.csv Aggregated %d, workers sent %d (final reports %d)", n, sent, finals)
		}
	}
	total, _ := tg.Count(path)
	if total < sent || total-sent > 100 {
		t.Errorf("target saw %d requests, master %d", total, sent)
	}
	if last := tg.Last(); last.After(m.Exited.Add(time.Second)) {
		t.Errorf("target got a request %s after the master exited", last.Sub(m.Exited))
	}
	for _, f := range []string{"old (pre 2.0)", "Unknown message type", "Discarded report", "failed to send heartbeat", "Traceback"} {
		if strings.Contains(out, f) {
			t.Errorf("master output has %q", f)
		}
	}
	t.Logf("workers sent %d requests (final reports %d); target saw %d", sent, finals, total)
}

// A SIGKILLed worker is marked missing by the master's heartbeat check and
// its users move to the other worker (--enable-rebalancing); the test
// completes.
func TestDistributedWorkerKilled(t *testing.T) {
	locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	m := locusttest.StartMaster(t, port, "--headless", "--expect-workers", "2", "--expect-workers-max-wait", "30",
		"--enable-rebalancing", "-u", "10", "-r", "10", "-t", "14s", "--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}
	m.WaitFor(t, `All users spawned`, 40*time.Second)
	ws[1].cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	m.WaitFor(t, `failed to send heartbeat, setting state to missing`, 10*time.Second)
	t.Logf("marked missing %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitOutput(t, ws[0].out, `Spawned \{"ApiAsyncUser": 0, "ApiSyncUser": 10, "ApiUser": 0\}`, 10*time.Second)
	if code := m.Wait(t, 40*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.Out)
	}
	if code := ws[0].wait(t, 5*time.Second); code != 0 {
		t.Errorf("surviving worker exit code %d; output:\n%s", code, ws[0].out)
	}
}

// The master is SIGKILLed mid-test: the workers stop their users, and when
// a new master listens on the same port they register again and run its
// test, whose counts check as the first test's.
func TestDistributedMasterRestart(t *testing.T) {
	locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	m1 := locusttest.StartMaster(t, port, "--headless", "--expect-workers", "2", "--expect-workers-max-wait", "30",
		"-u", "10", "-r", "10", "-t", "60s", "--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}
	m1.WaitFor(t, `All users spawned`, 40*time.Second)
	time.Sleep(4 * time.Second) // a report or so
	m1.Kill()
	var atLoss int64
	for _, w := range ws {
		waitOutput(t, w.out, lostRE.String(), 10*time.Second)
		n, _ := strconv.ParseInt(lostRE.FindStringSubmatch(w.out.String())[1], 10, 64)
		atLoss += n
	}
	// Users stopped: the target goes quiet (pacing is 1 s per user).
	quiet, _ := tg.Count("")
	time.Sleep(2500 * time.Millisecond)
	if now, _ := tg.Count(""); now > quiet+2 {
		t.Errorf("target saw %d requests in 2.5 s with the master gone", now-quiet)
	}

	m2 := locusttest.StartMaster(t, port, "--headless", "--expect-workers", "2", "--expect-workers-max-wait", "30",
		"-u", "10", "-r", "10", "-t", "6s", "--host", tg.URL, "ApiSyncUser")
	if code := m2.Wait(t, 60*time.Second); code != 0 {
		t.Errorf("second master exit code %d; output:\n%s", code, m2.Out)
	}
	var sent int64
	for i, w := range ws {
		if code := w.wait(t, 5*time.Second); code != 0 {
			t.Errorf("worker %d exit code %d; output:\n%s", i, code, w.out)
		}
		n, _, _, _ := w.totals(t)
		sent += n
		if c := strings.Count(w.out.String(), "Registered with master"); c != 2 {
			t.Errorf("worker %d registered %d times:\n%s", i, c, w.out)
		}
	}
	rows, err := locusttest.FinalTable(m2.Out.String())
	if err != nil {
		t.Fatalf("%v:\n%s", err, m2.Out)
	}
	if agg := rows["Aggregated"]; agg.Requests != sent-atLoss || agg.Requests == 0 {
		t.Errorf("second master counted %d, workers sent %d since re-registering", agg.Requests, sent-atLoss)
	}
	if !regexp.MustCompile(`\(index 0\) reported as ready`).MatchString(m2.Out.String()) ||
		!regexp.MustCompile(`\(index 1\) reported as ready`).MatchString(m2.Out.String()) {
		t.Errorf("second master did not register both workers:\n%s", m2.Out)
	}
}

// The stop path: a web-UI master with --autostart stops the test at -t (the
// workers get stop: client_stopped, then client_ready again) and quits
// --autoquit seconds later (the workers exit 0).
func TestDistributedStopThenQuit(t *testing.T) {
	locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	m := locusttest.StartMaster(t, port, "--autostart", "-t", "5s", "--autoquit", "3", "--expect-workers", "2",
		"--web-host", "127.0.0.1", "-P", strconv.Itoa(locusttest.FreePort(t)), "-u", "4", "-r", "4", "--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}
	if code := m.Wait(t, 60*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.Out)
	}
	for i, w := range ws {
		if code := w.wait(t, 5*time.Second); code != 0 {
			t.Errorf("worker %d exit code %d; output:\n%s", i, code, w.out)
		}
		if !strings.Contains(m.Out.String(), "Worker "+workerID(t, w)+" (index") {
			t.Errorf("master never named worker %d", i)
		}
	}
	if n := strings.Count(m.Out.String(), "reported that it has stopped"); n != 2 {
		t.Errorf("master logged %d stopped workers, want 2:\n%s", n, m.Out)
	}
	if n := strings.Count(m.Out.String(), "reported as ready"); n != 4 {
		t.Errorf("master logged %d ready workers, want 4 (2 at start, 2 after the stop):\n%s", n, m.Out)
	}
}

var registeredRE = regexp.MustCompile(`Registered with master \S+ as (\S+) `)

func workerID(t *testing.T, w *workerProc) string {
	t.Helper()
	m := registeredRE.FindStringSubmatch(w.out.String())
	if m == nil {
		t.Fatalf("worker never registered:\n%s", w.out)
	}
	return m[1]
}

// masterProc starts `loadgen --master` headless on port with args.
func startMasterProc(t *testing.T, port int, args ...string) *workerProc {
	t.Helper()
	return startLoadgenProc(t, append([]string{"--master", "--headless", "--master-bind-host", "127.0.0.1",
		"--master-bind-port", strconv.Itoa(port)}, args...)...)
}

// startLoadgenProc starts loadgen with args, stopped (killed) at the test's end.
func startLoadgenProc(t *testing.T, args ...string) *workerProc {
	t.Helper()
	bin, err := loadgenBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &workerProc{out: &locusttest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	p.cmd.Dir = t.TempDir()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// loadgen --master with two loadgen workers: the master's final table and
// CSV count exactly what the workers sent.
func TestDistributedLoadgenMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a distributed test for 10 s: skipped with -short")
	}
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	dir := t.TempDir()
	m := startMasterProc(t, port, "--expect-workers", "2", "-u", "20", "-r", "20", "-t", "10s",
		"--csv", dir+"/m", "--html", dir+"/m.html", "--json", "--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}
	if code := m.wait(t, 60*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.out)
	}
	var sent int64
	for i, w := range ws {
		if code := w.wait(t, 5*time.Second); code != 0 {
			t.Errorf("worker %d exit code %d; output:\n%s", i, code, w.out)
		}
		n, _, _, _ := w.totals(t)
		sent += n
		if !strings.Contains(w.out.String(), `"ApiSyncUser": 10, "ApiUser": 0} (10 total users)`) {
			t.Errorf("worker %d did not get 10 users:\n%s", i, w.out)
		}
	}
	out := m.out.String()
	rows, err := locusttest.FinalTable(out)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if agg := rows["Aggregated"]; agg.Requests != sent || agg.Fails != 0 || sent < 150 {
		t.Errorf("master's final table %+v, workers sent %d", agg, sent)
	}
	if n := statsCSVAggregated(t, dir+"/m_stats.csv"); n != sent {
		t.Errorf("m_stats.csv Aggregated %d, workers sent %d", n, sent)
	}
	if html, err := os.ReadFile(dir + "/m.html"); err != nil || !strings.Contains(string(html), strconv.FormatInt(sent, 10)) {
		t.Errorf("m.html (%v) does not show the %d requests", err, sent)
	} else if !strings.Contains(string(html), "Percentiles are exact") {
		t.Error("m.html does not say the loadgen workers' percentiles are exact")
	}
	if !strings.Contains(out, "of 2 loadgen workers and the master process") && !strings.Contains(out, "the master process itself, of it and 2 loadgen workers") {
		t.Errorf("the master's self-check does not come from its 2 workers' reports:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Self-check:") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if !strings.Contains(strings.ReplaceAll(out, " ", ""), `"percentile_source":"exact"`) {
		t.Error(`--json output lacks "percentile_source": "exact"`)
	}
	if want := fmt.Sprintf(`"num_requests":%d`, sent); !strings.Contains(strings.ReplaceAll(out, " ", ""), want) {
		t.Errorf("--json output lacks %s", want)
	}
	if total, _ := tg.Count(""); total < sent || total-sent > 20 {
		t.Errorf("target saw %d, master %d", total, sent)
	}
	if strings.Contains(out, "rounded response-time buckets") {
		t.Errorf("loadgen workers' exact histograms were not used:\n%s", out)
	}
	for _, want := range []string{`All users spawned: {"ApiSyncUser": 20} (20 total users)`, "(index 0) reported as ready", "(index 1) reported as ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("master output lacks %q:\n%s", want, out)
		}
	}
}

// loadgen --master with two of Debian's Python workers, which announce an
// empty version: accepted with a warning, and the counts add up.
func TestDistributedLoadgenMasterPythonWorkers(t *testing.T) {
	locust := locusttest.RequireLocust(t)
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	dir := t.TempDir()
	m := startMasterProc(t, port, "--expect-workers", "2", "--expect-workers-max-wait", "40", "-u", "10", "-r", "10", "-t", "8s",
		"--html", dir+"/m.html", "--json", "--host", tg.URL, "ApiSyncUser")
	var pys []*workerProc
	for range 2 {
		p := &workerProc{out: &locusttest.Buffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(locust, "-f", locusttest.Locustfile(), "--worker", "--master-host", "127.0.0.1",
			"--master-port", strconv.Itoa(port))
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() {
			select {
			case <-p.done:
			default:
				p.cmd.Process.Kill()
				<-p.done
			}
		})
		pys = append(pys, p)
	}
	if code := m.wait(t, 90*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.out)
	}
	for i, p := range pys {
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Errorf("python worker %d exit code %d; output:\n%s", i, code, p.out)
		}
	}
	out := m.out.String()
	if n := strings.Count(out, "with an empty version string connected"); n != 2 {
		t.Errorf("%d empty-version warnings, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "percentiles are approximated from them") {
		t.Errorf("no warning that Python workers' percentiles come from buckets:\n%s", out)
	}
	if html, err := os.ReadFile(dir + "/m.html"); err != nil || !strings.Contains(string(html), "Percentiles are approximate") {
		t.Errorf("m.html (%v) does not say the percentiles come from Locust's buckets", err)
	}
	if !strings.Contains(strings.ReplaceAll(out, " ", ""), `"percentile_source":"locust_buckets"`) {
		t.Error(`--json output lacks "percentile_source": "locust_buckets"`)
	}
	rows, err := locusttest.FinalTable(out)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	agg := rows["Aggregated"]
	total, _ := tg.Count("")
	if agg.Requests < 60 || agg.Fails != 0 || total < agg.Requests || total-agg.Requests > 10 {
		t.Errorf("master counted %+v, target saw %d", agg, total)
	}
	t.Logf("master counted %d, target saw %d", agg.Requests, total)
}

// loadgen --master marks a SIGKILLed worker missing after its heartbeats
// stop and, with --enable-rebalancing, gives its users to the other worker.
func TestDistributedLoadgenMasterWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a distributed test for 14 s: skipped with -short")
	}
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port := locusttest.FreePort(t)
	m := startMasterProc(t, port, "--expect-workers", "2", "--enable-rebalancing", "-u", "10", "-r", "10", "-t", "14s",
		"--host", tg.URL, "ApiSyncUser")
	ws := []*workerProc{startWorkerProc(t, port), startWorkerProc(t, port)}
	waitOutput(t, m.out, `All users spawned`, 40*time.Second)
	ws[1].cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	waitOutput(t, m.out, `failed to send heartbeat, setting state to missing`, 10*time.Second)
	t.Logf("marked missing %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitOutput(t, ws[0].out, `"ApiSyncUser": 10, "ApiUser": 0\} \(10 total users\)`, 10*time.Second)
	if code := m.wait(t, 40*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.out)
	}
	if code := ws[0].wait(t, 5*time.Second); code != 0 {
		t.Errorf("surviving worker exit code %d; output:\n%s", code, ws[0].out)
	}
}

// Locust's distributed-mode command-line errors: one log line each, with
// Locust's exit codes.
func TestDistributedBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"run time on a worker", []string{"--worker", "-t", "10s"}, 1, "--run-time should be specified on the master node, and not on worker nodes"},
		{"bad run time on a worker", []string{"--worker", "-t", "1d"}, 1, "--run-time should be specified on the master node"},
		{"master and worker", []string{"--master", "--worker"}, 255, "The --master argument cannot be combined with --worker"},
		{"max wait without expect", []string{"--master", "--headless", "-H", "http://127.0.0.1:1", "--expect-workers", "0", "--expect-workers-max-wait", "3", "--master-bind-port", "0"}, 255,
			"The --expect-workers-max-wait argument only makes sense when combined with --expect-workers"},
		{"no worker comes", []string{"--master", "--headless", "-H", "http://127.0.0.1:1", "--expect-workers", "1", "--expect-workers-max-wait", "1",
			"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--csv", filepath.Join(dir, "x")}, 1, "Gave up waiting for workers to connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err, _, stderr := runArgs(context.Background(), tt.args...)
			if c := code(err); c != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", c, stderr, tt.code, tt.want)
			}
		})
	}
}

// A web-UI master with --autostart starts its test only once --expect-workers
// workers are ready, as Locust's master does, not before any worker could take
// a user (which would leave it waiting for a start that never comes).
func TestDistributedAutostartWaitsForWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a distributed test: skipped with -short")
	}
	t.Parallel()
	tg := locusttest.NewTarget(t, 5*time.Millisecond)
	port, web := locusttest.FreePort(t), locusttest.FreePort(t)
	m := startLoadgenProc(t, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", strconv.Itoa(port),
		"--web-host", "127.0.0.1", "--web-port", strconv.Itoa(web), "--autostart", "--autoquit", "0",
		"--expect-workers", "1", "-u", "4", "-r", "4", "-t", "3s", "--host", tg.URL, "ApiSyncUser")
	waitOutput(t, m.out, `Waiting for workers to be ready, 0 of 1 connected`, 20*time.Second)
	startWorkerProc(t, port) // stopped at the test's end if the master's quit did not reach it
	if code := m.wait(t, 60*time.Second); code != 0 {
		t.Errorf("master exit code %d; output:\n%s", code, m.out)
	}
	out := m.out.String()
	rows, err := locusttest.FinalTable(out)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if agg := rows["Aggregated"]; agg.Requests == 0 || !strings.Contains(out, `All users spawned: {"ApiSyncUser": 4} (4 total users)`) {
		t.Errorf("the test did not run on the worker (%+v); master output:\n%s", agg, out)
	}
	if strings.Contains(out, "You can't start a distributed test") {
		t.Errorf("the master tried to start before its worker was ready:\n%s", out)
	}
}
