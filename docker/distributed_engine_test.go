package docker_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"predictlab/internal/targetsapi"
)

// distributedServices are the services of the compose profile distributed.
var distributedServices = []string{"loadgen-master", "loadgen-worker"}

// masterStats is the part of a loadgen master's GET /stats/requests the test reads.
type masterStats struct {
	State     string `json:"state"`
	UserCount int    `json:"user_count"`
	Stats     []struct {
		Name        string `json:"name"`
		NumRequests int    `json:"num_requests"`
		NumFailures int    `json:"num_failures"`
	} `json:"stats"`
	Workers []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		UserCount int    `json:"user_count"`
	} `json:"workers"`
}

// aggregated returns the Aggregated row's requests and failures.
func (s masterStats) aggregated() (requests, failures int) {
	for _, r := range s.Stats {
		if r.Name == "Aggregated" {
			return r.NumRequests, r.NumFailures
		}
	}
	return 0, 0
}

// workers counts the workers in state and lists the user counts of all.
func (s masterStats) workers(state string) (n int, users []int) {
	for _, w := range s.Workers {
		if w.State == state {
			n++
		}
		users = append(users, w.UserCount)
	}
	return n, users
}

// testDistributed runs the distributed profile beside the services p brought up: a
// loadgen master and two worker containers on the host's network, a swarm started through
// the master's web UI against async-scoring's published 127.0.0.1 port, then removes the
// profile's containers and nothing else.
func testDistributed(t *testing.T, p *project) {
	// The same project, on free ports for the master's web UI and worker port, failing
	// this subtest rather than its parent.
	d := *p
	d.t = t
	d.ports = maps.Clone(p.ports)
	maps.Copy(d.ports, servicePorts(t, "loadgen-master", "loadgen-master-workers"))
	d.env = append(slices.Clone(p.env),
		"PREDICTLAB_UI_PORT="+strconv.Itoa(d.ports["loadgen-master"]),
		"PREDICTLAB_MASTER_PORT="+strconv.Itoa(d.ports["loadgen-master-workers"]))
	profile := []string{"--profile", "distributed"}
	logs := func() string {
		out, _ := d.tryCompose(time.Minute, append(profile, append([]string{"logs", "--tail", "30"}, distributedServices...)...)...)
		return out
	}

	removed := false
	remove := func() {
		removed = true
		start := time.Now()
		out, err := d.tryCompose(2*time.Minute, append(profile, append([]string{"rm", "-fsv"}, distributedServices...)...)...)
		if err != nil {
			t.Errorf("rm -fsv %s: %v\n%s", distributedServices, err, out)
		}
		t.Logf("rm -fsv of the master and workers: %s", time.Since(start).Round(100*time.Millisecond))
		for _, svc := range distributedServices {
			if left := d.serviceContainers(svc); len(left) != 0 {
				t.Errorf("after rm -fsv, containers of %s are left: %s", svc, left)
			}
		}
	}
	t.Cleanup(func() {
		if !removed {
			remove()
		}
	})

	before := d.containers()
	start := time.Now()
	out := d.composeRun(5*time.Minute, append(profile, append([]string{"up", "-d", "--scale", "loadgen-worker=2"}, distributedServices...)...)...)
	t.Logf("up -d --scale loadgen-worker=2: %s", time.Since(start).Round(100*time.Millisecond))
	if strings.Contains(out, "Building") || strings.Contains(out, "Pulling") {
		t.Errorf("up of the profile built or pulled an image:\n%s", out)
	}
	// depends_on: the scoring services were healthy already, so up left them as they were.
	after := d.containers()
	for _, svc := range []string{"sync-scoring", "async-scoring"} {
		if !after[svc].State.StartedAt.Equal(before[svc].State.StartedAt) {
			t.Errorf("up of the profile restarted %s (started %s, before %s):\n%s", svc, after[svc].State.StartedAt, before[svc].State.StartedAt, out)
		}
	}
	for _, svc := range distributedServices {
		want := map[string]int{"loadgen-master": 1, "loadgen-worker": 2}[svc]
		ids := d.serviceContainers(svc)
		if len(ids) != want {
			t.Fatalf("%s: %d containers, want %d\n%s", svc, len(ids), want, out)
		}
		inspect := run(t, time.Minute, "", nil, "docker", append([]string{"inspect", "--format", "{{.HostConfig.NetworkMode}} {{.State.Status}}"}, ids...)...)
		for line := range strings.Lines(inspect) {
			if strings.TrimSpace(line) != "host running" {
				t.Errorf("%s container: network mode and state %q, want host running\n%s", svc, strings.TrimSpace(line), logs())
			}
		}
	}

	// A stop can wait 10 s for the workers' answers: more than the shared client's timeout.
	client := &http.Client{Timeout: 30 * time.Second}
	base := d.url("loadgen-master", "")
	target := d.url("async-scoring", "")
	var st masterStats
	waitStats := func(within time.Duration, what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			var s masterStats // a fresh one: a field the answer lacks is not the last one's
			err := getJSON(client, base+"/stats/requests", &s)
			st = s
			if err == nil && done() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s (%v; last stats %+v)\n%s", what, within, err, st, logs())
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitStats(time.Minute, "2 workers ready", func() bool {
		n, _ := st.workers("ready")
		return n == 2 && len(st.Workers) == 2
	})
	if page, err := getBody(client, base+"/"); err != nil || !strings.Contains(page, target) {
		t.Errorf("the master's page does not offer the host %s (async-scoring's published port): %v", target, err)
	}

	answeredBefore := answered200(t, client, d.url("async-scoring", targetsapi.MetricsPath))
	form := url.Values{"user_count": {"20"}, "spawn_rate": {"20"}, "host": {target}}
	resp, err := client.PostForm(base+"/swarm", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /swarm: %d %s", resp.StatusCode, b)
	}
	stopped := false
	stop := func() {
		stopped = true
		if _, err := getBody(client, base+"/stop"); err != nil {
			t.Errorf("GET /stop: %v", err)
		}
	}
	defer func() {
		if !stopped {
			stop()
		}
	}()

	waitStats(30*time.Second, "20 users running, 10 on each worker", func() bool {
		n, users := st.workers("running")
		return st.State == "running" && st.UserCount == 20 && n == 2 && slices.Equal(users, []int{10, 10})
	})
	time.Sleep(10 * time.Second) // the test's run time: about 200 requests at 1 per user per second
	st = masterStats{}
	if err := getJSON(client, base+"/stats/requests", &st); err != nil {
		t.Fatal(err)
	}
	requests, failures := st.aggregated()
	_, users := st.workers("running")
	t.Logf("after ~10 s: %d requests, %d failures, %d users, workers' users %v", requests, failures, st.UserCount, users)
	if requests == 0 || failures != 0 {
		t.Errorf("%d requests, %d failures; want some requests and no failures\n%s", requests, failures, logs())
	}
	if !slices.Equal(users, []int{10, 10}) {
		t.Errorf("users per worker %v, want [10 10]", users)
	}

	// After the stop the master has every worker's last report (a loadgen worker sends it
	// before it says it stopped): each request it counts was answered by async-scoring.
	stop()
	waitStats(30*time.Second, "the test stopped", func() bool { return st.State == "stopped" })
	requests, failures = st.aggregated()
	got := answered200(t, client, d.url("async-scoring", targetsapi.MetricsPath)) - answeredBefore
	t.Logf("stopped: the master counted %d requests (%d failures); async-scoring answered %d with 200 meanwhile", requests, failures, got)
	if got < uint64(requests) {
		t.Errorf("async-scoring answered %d requests with 200, fewer than the %d the master counted", got, requests)
	}

	remove()
	// Only the profile's containers went: the services stay up for the next subtests.
	cs := d.containers()
	for _, svc := range []string{"redis", "sync-model", "sync-scoring", "async-model", "async-scoring"} {
		if c := cs[svc]; c.State.Status != "running" || !c.State.StartedAt.Equal(before[svc].State.StartedAt) {
			t.Errorf("%s after the profile's containers were removed: %q, started %s (before: %s)", svc, c.State.Status, c.State.StartedAt, before[svc].State.StartedAt)
		}
	}
}

// serviceContainers returns the ids of the project's containers of service, in any state.
func (p *project) serviceContainers(service string) []string {
	p.t.Helper()
	return strings.Fields(run(p.t, time.Minute, "", nil, "docker", "ps", "-a", "-q",
		"--filter", "label=com.docker.compose.project="+p.name, "--filter", "label=com.docker.compose.service="+service))
}

// getBody returns the body of a 200 answer to GET addr.
func getBody(client *http.Client, addr string) (string, error) {
	resp, err := client.Get(addr)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<22))
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: status %d: %.200s", addr, resp.StatusCode, b)
	}
	return string(b), err
}

// getJSON decodes the JSON of a 200 answer to GET addr into v.
func getJSON(client *http.Client, addr string, v any) error {
	body, err := getBody(client, addr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("decode %s: %w", addr, err)
	}
	return nil
}

// answered200 reads, from a service's /metrics, how many predict requests it has answered
// with status 200 (the count of its request-duration histogram's code="200" series).
func answered200(t *testing.T, client *http.Client, metricsURL string) uint64 {
	t.Helper()
	body, err := getBody(client, metricsURL)
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", metricsURL, err)
	}
	var n uint64
	for _, m := range families[targetsapi.MetricRequestDuration].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "code" && l.GetValue() == "200" {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
