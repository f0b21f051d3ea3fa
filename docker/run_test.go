package docker_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"predictlab/internal/testutil"
)

// TestComposeCommandsRun runs the compose services' own `command:`s outside Docker, with
// the binaries the Dockerfile's go build makes: each service on a free loopback port in
// place of its container port, the compose service names in URLs pointed at those ports,
// started in depends_on order, each waited for with its own healthcheck command. Then
// every published API must answer a predict request. This checks that the commands are
// ones the programs accept and that the services find each other as wired; it says
// nothing about the image or Docker's network.
//
// Redis is the real redis-server (with the compose command) when installed, else the
// embedded store (`targets featurestore`).
func TestComposeCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the services; skipped with -short")
	}
	bin := t.TempDir()
	goBuild(t, bin)
	p := loadCompose(t, nil)

	// Container port of every service, and a free host port to stand in for it.
	containerPort := map[string]string{"redis": "6379"}
	for name, s := range p.Services {
		if addr := flagValue(s.Command, "--addr"); addr != "" {
			_, containerPort[name], _ = strings.Cut(addr, ":")
		}
	}
	hostPort := map[string]string{}
	names := slices.Sorted(maps.Keys(containerPort))
	for i, port := range testutil.ServicePorts(t, len(names)) {
		hostPort[names[i]] = strconv.Itoa(port)
	}
	rewrite := func(self, arg string) string {
		arg = strings.ReplaceAll(arg, "0.0.0.0:"+containerPort[self], "127.0.0.1:"+hostPort[self])
		for name, port := range containerPort {
			arg = strings.ReplaceAll(arg, "//"+name+":"+port, "//127.0.0.1:"+hostPort[name])
		}
		arg = strings.ReplaceAll(arg, "//127.0.0.1:"+containerPort[self]+"/", "//127.0.0.1:"+hostPort[self]+"/")
		return arg
	}

	started := map[string]bool{}
	for len(started) < len(p.Services) {
		progress := false
		for _, name := range slices.Sorted(maps.Keys(p.Services)) {
			s := p.Services[name]
			ready := !started[name]
			for dep := range s.DependsOn {
				ready = ready && started[dep]
			}
			if !ready {
				continue
			}
			var argv, health []string
			switch {
			case name != "redis":
				argv = append([]string{filepath.Join(bin, "targets")}, s.Command...)
				health = slices.Clone(s.HealthCheck.Test[1:]) // /usr/local/bin/targets healthcheck URL
				health[0] = filepath.Join(bin, filepath.Base(health[0]))
			case haveCommand("redis-server") && haveCommand("redis-cli"):
				argv = append(slices.Clone(s.Command), "--port", hostPort[name], "--bind", "127.0.0.1")
				test := s.HealthCheck.Test[1:] // redis-cli ping
				health = append([]string{test[0], "-p", hostPort[name]}, test[1:]...)
			default:
				argv = []string{filepath.Join(bin, "targets"), "featurestore", "--addr", "127.0.0.1:" + hostPort[name]}
				health = nil // a TCP connect, below
			}
			for i := range argv {
				argv[i] = rewrite(name, argv[i])
			}
			for i := range health {
				health[i] = rewrite(name, health[i])
			}
			t.Logf("%s: %s", name, strings.Join(argv, " "))
			proc := testutil.Start(t, name, argv)
			waitHealthy(t, proc, health, "127.0.0.1:"+hostPort[name])
			started[name] = true
			progress = true
		}
		if !progress {
			t.Fatalf("depends_on cycle or unknown dependency; started %v", started)
		}
	}

	client := &http.Client{Timeout: 10 * time.Second}
	for name, s := range p.Services {
		if len(s.Ports) == 0 {
			continue
		}
		route := flagValue(s.Command, "--route")
		url := "http://127.0.0.1:" + hostPort[name] + "/api/v1/ml/" + route + "/predict"
		resp, err := client.Post(url, "application/json", strings.NewReader("[5.1, 3.5, 1.4, 0.2]"))
		if err != nil {
			t.Errorf("%s: POST %s: %v", name, url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var d struct {
			Detail *float64 `json:"detail"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &d) != nil || d.Detail == nil {
			t.Errorf("%s: POST %s: %d %s, want 200 {\"detail\": number}", name, url, resp.StatusCode, body)
		}
	}
	// Redis starts empty; the scoring services' --seed-features filled it.
	if haveCommand("redis-server") && haveCommand("redis-cli") {
		out, err := exec.Command("redis-cli", "-p", hostPort["redis"], "GET", "features:5.1,3.5,1.4,0.2").Output()
		if err != nil || !strings.Contains(string(out), "sepal_ratio") {
			t.Errorf("redis GET features:5.1,3.5,1.4,0.2 = %q, %v; want the seeded vector", out, err)
		}
	}
	if t.Failed() {
		return
	}

	// The lab service's command against these services: the smoke profile (through the
	// compose file's PREDICTLAB_PROFILE), experiment 1 only, /output on a temporary folder.
	lp := loadCompose(t, map[string]string{"PREDICTLAB_PROFILE": "smoke", "PREDICTLAB_RUN": "compose-test"}, "lab")
	lab := lp.Services["lab"]
	output := t.TempDir()
	argv := append(slices.Clone(lab.Entrypoint), lab.Command...)
	argv = append(argv, "--experiments=1")
	for i, a := range argv {
		a = rewrite("lab", a)
		a = strings.ReplaceAll(a, "/usr/local/bin/", bin+"/")
		a = strings.ReplaceAll(a, "=/output/", "="+output+"/")
		argv[i] = a
	}
	t.Logf("lab: %s", strings.Join(argv, " "))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lab: %v\n%s", err, out)
	}
	for _, f := range []string{"response_time_sync_stats.csv", "response_time_async_stats.csv"} {
		if _, err := os.Stat(filepath.Join(output, "compose-test", f)); err != nil {
			t.Errorf("lab wrote no %s: %v\n%s", f, err, out)
		}
	}
}

// goBuild builds the three programs into dir, as the Dockerfile does (static, trimmed).
func goBuild(t *testing.T, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute) // the machine may be busy
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dir+string(filepath.Separator), "./targets", "./loadgen", "./lab")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// haveCommand reports whether name is on PATH.
func haveCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// waitHealthy runs the healthcheck command (or, when health is nil, connects to addr)
// until it succeeds, for up to 30 s; it fails at once if the process exits.
func waitHealthy(t *testing.T, p *testutil.Process, health []string, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.Done():
			t.Fatalf("%s exited before it was healthy: %v\n%s", p.Name, p.Err(), p.Output())
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		if health == nil {
			var c net.Conn
			if c, last = (&net.Dialer{}).DialContext(ctx, "tcp", addr); last == nil {
				c.Close()
			}
		} else {
			var out []byte
			out, last = exec.CommandContext(ctx, health[0], health[1:]...).CombinedOutput()
			if last != nil {
				last = errors.Join(last, errors.New(strings.TrimSpace(string(out))))
			}
		}
		cancel()
		if last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not healthy after 30 s: %s: %v", p.Name, strings.Join(health, " "), last)
}
