package command

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/locustcsv"
	"predictlab/internal/targetsapi"
	"predictlab/internal/testutil"
)

// TestFaultInjectionLoadgen is TestFaultInjection with the load coming from
// the real loadgen binary, as a user runs it: the same faults (a model
// killed, frozen and restarted, the store killed and restarted) while loadgen
// drives the scoring service, then loadgen is stopped with Ctrl-C (SIGINT)
// and its CSVs are checked:
//   - _stats.csv: the Aggregated row is the sum of the endpoint rows, and its
//     failures are exactly what scoring answered with a non-200 code (from
//     scoring's /metrics), per code;
//   - _failures.csv: the kinds are 502, 503 and 504 only, all three seen, and
//     their occurrences add up to the Aggregated failures;
//   - _stats_history.csv: whole rows to the end, its last row carries the final
//     totals, and the failure count grows only in seconds that touch a fault
//     window (plus the recovery grace).
//
// Both programs are built with `go build` into a temp dir once; the test is
// skipped when that is not possible. It runs ~30 s (both targets) and is
// skipped under -short. Loopback only; every process is stopped at the end.
func TestFaultInjectionLoadgen(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection with loadgen runs ~30 s; skipped under -short")
	}
	bin := buildPrograms(t, "targets", "loadgen")
	for _, tgt := range targetsapi.Targets() {
		t.Run(tgt.String(), func(t *testing.T) { testFaultsLoadgen(t, bin, tgt) })
	}
}

// buildPrograms builds the module's main packages names into a temp dir and
// returns it; it skips the test when the go tool is missing or a build fails
// (the build of each program is other tests' business).
func buildPrograms(t *testing.T, names ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build %v: %v", names, err)
	}
	dir := t.TempDir()
	for _, name := range names {
		// HOME (and so the build cache) is left as is.
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, name), "predictlab/"+name)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("cannot build %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

func testFaultsLoadgen(t *testing.T, bin string, tgt targetsapi.Target) {
	targets := filepath.Join(bin, "targets")
	ports := testutil.ServicePorts(t, 3)
	modelAddr, scoringAddr, storeAddr := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1]), fmt.Sprintf("127.0.0.1:%d", ports[2])
	startStore := func() *testutil.Process {
		p := testutil.Start(t, "featurestore", []string{targets, "featurestore", "--addr", storeAddr, "--log-level", "error"})
		waitStore(t, storeAddr, 10*time.Second)
		return p
	}
	startModel := func() *testutil.Process {
		p := testutil.Start(t, "model", append([]string{targets, "model", "--addr", modelAddr}, styleArgs(tgt)...))
		testutil.WaitHealthy(t, "http://"+modelAddr+targetsapi.HealthPath, 10*time.Second, p.Done())
		return p
	}
	store, model := startStore(), startModel()
	scoring := testutil.Start(t, "scoring", append([]string{targets, "scoring", "--addr", scoringAddr, "--model-url", "http://" + modelAddr,
		"--feature-store", "redis://" + storeAddr, "--model-timeout", "1s", "--store-timeout", "500ms"}, styleArgs(tgt)...))
	testutil.WaitHealthy(t, "http://"+scoringAddr+targetsapi.HealthPath, 10*time.Second, scoring.Done())

	// 20 users at constant_pacing(1): ~20 requests a second, so each fault
	// window of 1-1.5 s sees a dozen or more failures.
	user := map[targetsapi.Target]string{targetsapi.Sync: "ApiSyncUser", targetsapi.Async: "ApiAsyncUser"}[tgt]
	prefix := filepath.Join(t.TempDir(), "fault")
	lg := testutil.Start(t, "loadgen", []string{filepath.Join(bin, "loadgen"), "--host", "http://" + scoringAddr, "--headless",
		"-u", "20", "-r", "20", "-t", "60s", "--csv", prefix, "--loglevel", "WARNING", user})

	var windows []window
	phase := func() {
		select {
		case <-lg.Done():
			t.Fatalf("loadgen exited during the faults: %v", lg.Err())
		case <-time.After(time.Second):
		}
	}
	phase() // spawning
	phase() // all up

	windows = injectFaults(t, phase, model, store, startModel, startStore)
	phase()
	phase()
	phase()

	// Ctrl-C, as a user ends a run: the files must be complete all the same.
	if err := lg.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lg.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("loadgen still running 20 s after SIGINT; output:\n%s", lg.Output())
	}
	if code := lg.Cmd.ProcessState.ExitCode(); code != 0 && code != 1 { // 1: the run had failures, as Locust
		t.Errorf("loadgen exit code %d after SIGINT, want 0 or 1; output:\n%s", code, lg.Output())
	}

	// _stats.csv: Aggregated = sum of the endpoint rows.
	stats := readCSV(t, prefix+"_stats.csv", locustcsv.ReadStats)
	var agg *locustcsv.StatsRow
	var sumReq, sumFail int64
	for i, r := range stats {
		if r.Name == locustcsv.AggregatedName && r.Type == "" {
			agg = &stats[i]
			continue
		}
		sumReq += r.RequestCount
		sumFail += r.FailureCount
	}
	if agg == nil {
		t.Fatalf("_stats.csv has no Aggregated row: %+v", stats)
	}
	if agg.RequestCount != sumReq || agg.FailureCount != sumFail {
		t.Errorf("_stats.csv Aggregated %d requests / %d failures, endpoint rows add up to %d / %d", agg.RequestCount, agg.FailureCount, sumReq, sumFail)
	}
	if agg.FailureCount == 0 || agg.FailureCount >= agg.RequestCount {
		t.Errorf("_stats.csv: %d failures of %d requests, want some failures and some successes", agg.FailureCount, agg.RequestCount)
	}

	// _failures.csv: only 502/503/504, each seen, adding up to the
	// Aggregated failures and to what scoring answered.
	failures := readCSV(t, prefix+"_failures.csv", locustcsv.ReadFailures)
	byCode := map[int]int64{}
	var sumOcc int64
	for _, f := range failures {
		sumOcc += f.Occurrences
		code := 0
		for _, c := range []int{502, 503, 504} {
			if strings.Contains(f.Error, strconv.Itoa(c)+" Server Error") {
				code = c
			}
		}
		if code == 0 {
			t.Errorf("_failures.csv: a failure that is not a 502/503/504 answer: %q (%d)", f.Error, f.Occurrences)
		}
		byCode[code] += f.Occurrences
	}
	if sumOcc != agg.FailureCount {
		t.Errorf("_failures.csv occurrences add up to %d, _stats.csv Aggregated failures %d", sumOcc, agg.FailureCount)
	}
	answered := scoringAnswers(t, "http://"+scoringAddr+targetsapi.MetricsPath)
	for _, c := range []int{502, 503, 504} {
		if byCode[c] == 0 {
			t.Errorf("_failures.csv has no %d: the faults should give 502 (model killed), 504 (model frozen) and 503 (store killed); rows %+v", c, failures)
		}
		if byCode[c] != answered[c] {
			t.Errorf("loadgen counted %d answers %d, scoring answered %d", byCode[c], c, answered[c])
		}
	}

	// _stats_history.csv: whole rows to the end, the last one the final
	// totals, failures growing only in seconds that touch a fault window.
	raw, err := os.ReadFile(prefix + "_stats_history.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("_stats_history.csv does not end with a whole row: ...%q", raw[max(0, len(raw)-80):])
	}
	history := readCSV(t, prefix+"_stats_history.csv", locustcsv.ReadHistory)
	var rows []locustcsv.HistoryRow
	for _, r := range history {
		if r.Name == locustcsv.AggregatedName {
			rows = append(rows, r)
		}
	}
	if len(rows) < 5 {
		t.Fatalf("_stats_history.csv has %d Aggregated rows for a ~12 s run, want one a second", len(rows))
	}
	last := rows[len(rows)-1]
	if last.TotalRequestCount != agg.RequestCount || last.TotalFailureCount != agg.FailureCount {
		t.Errorf("_stats_history.csv ends at %d requests / %d failures, _stats.csv has %d / %d", last.TotalRequestCount, last.TotalFailureCount, agg.RequestCount, agg.FailureCount)
	}
	// A row stamped second T holds the totals at some instant in [T, T+1);
	// failures that grew between rows T0 and T1 ended in [T0, T1+1).
	touches := func(from, to int64) bool {
		for _, w := range windows {
			if from < w.recovered.Add(recoveryGrace).Unix()+1 && to > w.from.Unix() {
				return true
			}
		}
		return false
	}
	for i := 1; i < len(rows); i++ {
		prev, cur := rows[i-1], rows[i]
		if cur.Timestamp < prev.Timestamp || cur.TotalRequestCount < prev.TotalRequestCount || cur.TotalFailureCount < prev.TotalFailureCount {
			t.Errorf("_stats_history.csv goes backwards: %+v then %+v", prev, cur)
		}
		if cur.TotalFailureCount > prev.TotalFailureCount && !touches(prev.Timestamp, cur.Timestamp+1) {
			t.Errorf("_stats_history.csv: %d failures between %s and %s, outside every fault window",
				cur.TotalFailureCount-prev.TotalFailureCount, time.Unix(prev.Timestamp, 0).Format("15:04:05"), time.Unix(cur.Timestamp, 0).Format("15:04:05"))
		}
	}
	for _, w := range windows {
		t.Logf("%s: %s → %s", w.name, w.from.Format("15:04:05.000"), w.recovered.Format("15:04:05.000"))
	}
	t.Logf("loadgen: %d requests, %d failures (502: %d, 503: %d, 504: %d), %d history rows",
		agg.RequestCount, agg.FailureCount, byCode[502], byCode[503], byCode[504], len(rows))
}

// readCSV reads path with read, failing the test on any error.
func readCSV[R any](t *testing.T, path string, read func(io.Reader) ([]R, error)) []R {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := read(f)
	if err != nil {
		t.Fatalf("read %s: %v", filepath.Base(path), err)
	}
	return rows
}

// scoringAnswers returns how many predict answers scoring gave with each
// status code, from the count of its request-duration histogram.
func scoringAnswers(t *testing.T, url string) map[int]int64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[int]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, targetsapi.MetricRequestDuration+"_count{")
		if !ok {
			continue
		}
		_, after, ok := strings.Cut(rest, `code="`)
		if !ok {
			continue
		}
		codeText, _, _ := strings.Cut(after, `"`)
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		code, err1 := strconv.Atoi(codeText)
		n, err2 := strconv.ParseFloat(f[0], 64)
		if err1 == nil && err2 == nil {
			out[code] += int64(n)
		}
	}
	return out
}
