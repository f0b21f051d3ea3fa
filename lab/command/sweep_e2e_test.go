package command

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"predictlab/lab/internal/proc"
)

// TestSweepSmoke runs a tiny sweep end to end (2 values, seconds each) on
// free ports: every file is written, each point carries its prediction and
// bottleneck, and no child outlives the lab. Its measured rates are not
// asserted: they depend on the machine.
func TestSweepSmoke(t *testing.T) {
	bin := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "sweep")
	ports := freePorts(t, 5)
	cmd := exec.Command(filepath.Join(bin, "lab"), "sweep", "--knob", "workers", "--values", "4,16", "--profile", "smoke",
		"--out", out, "--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]),
		"--targets-bin", filepath.Join(bin, "targets"), "--loadgen-bin", filepath.Join(bin, "loadgen"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lab sweep: %v\n%s", err, b)
	}
	for _, f := range []string{"sweep.json", "summary.md", "index.html", "sweep.png",
		"sweep_workers_4_sync_stats.csv", "sweep_workers_16_sync_stats_history.csv", "sweep_workers_16_sync.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Knob   string `json:"knob"`
		Points []struct {
			Target       string  `json:"target"`
			Value        float64 `json:"value"`
			MeasuredRPS  float64 `json:"measured_rps"`
			PredictedRPS float64 `json:"predicted_rps"`
			Bottleneck   string  `json:"bottleneck"`
		} `json:"points"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Knob != "workers" || len(doc.Points) != 2 {
		t.Fatalf("sweep.json: %s", b)
	}
	for i, want := range []struct {
		value      float64
		bottleneck string
	}{{4, "scoring pool"}, {16, "model pool"}} {
		p := doc.Points[i]
		if p.Target != "sync" || p.Value != want.value || p.Bottleneck != want.bottleneck || p.PredictedRPS <= 0 || p.MeasuredRPS <= 0 {
			t.Errorf("point %d: %+v, want sync %v bottleneck %s with a prediction and a measurement", i, p, want.value, want.bottleneck)
		}
	}
	for pid, name := range childPids(t, out) {
		if proc.Alive(pid) {
			t.Errorf("child %s (pid %d) still running after lab sweep exited", name, pid)
		}
	}
}
