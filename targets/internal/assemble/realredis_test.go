package assemble

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/featurestore"
)

// TestRealRedis runs a scoring request against a real redis-server when one is
// installed (CI installs it); without it the test is skipped.
func TestRealRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	ln := listenLocal(t)
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	url := "redis://127.0.0.1:" + strconv.Itoa(port)
	client, err := featurestore.NewClient(featurestore.ClientConfig{URL: url})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	for i := 0; ; i++ { // wait until it accepts connections
		if _, err = client.Features(context.Background(), "features:1"); err == nil {
			break
		}
		if i > 200 {
			t.Fatalf("redis-server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cm := common(targetsapi.Blocking, targetsapi.Echo).WithDefaults()
	model := startModel(t, cm)
	scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: "http://" + model.Addr, FeatureStore: url})
	wantDetail(t, do(t, "POST", "http://"+scoring.Addr+cm.Route.PredictPath(), []byte(seedBody)), 0.04, 0.05)
}
