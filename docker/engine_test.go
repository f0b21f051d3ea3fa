package docker_test

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/testutil"
)

// engineTestEnv turns the engine tests on: they build images and start containers,
// which takes minutes, so `make test` leaves them out and `make docker-test` sets it.
const engineTestEnv = "PREDICTLAB_DOCKER_TEST"

// requireEngine skips the test, with one line saying why, unless the engine tests are
// asked for and a Docker engine and a Compose client answer. It returns the Compose
// command (docker-compose, or docker compose).
func requireEngine(t *testing.T) []string {
	t.Helper()
	if os.Getenv(engineTestEnv) == "" {
		t.Skip("Docker engine tests are off; set " + engineTestEnv + "=1 (make docker-test)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no working Docker engine (docker info: %v: %s)", err, firstLine(string(out)))
	}
	if path, err := exec.LookPath("docker-compose"); err == nil {
		return []string{path}
	}
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	t.Skip("no Compose client (neither docker-compose nor docker compose)")
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// contextWithTimeout bounds a command by d. It does not derive from t.Context(), which
// is cancelled before the cleanups run, and the cleanups run commands too.
func contextWithTimeout(_ *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// tryRun runs name args in dir with env (nil: the test's own) for at most timeout and
// returns its combined output.
func tryRun(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := contextWithTimeout(t, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (after %s)", ctx.Err(), timeout)
	}
	return string(out), err
}

// run is tryRun that fails the test on error.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(t, timeout, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// vendoredCopy copies the repository's files (tracked and untracked, not ignored) into a
// temporary folder and vendors the modules there from the host's module cache: the image
// builds from it with GOFLAGS=-mod=vendor and downloads nothing. The repository itself
// stays unvendored.
func vendoredCopy(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dst := filepath.Join(t.TempDir(), "predictlab")
	files := run(t, time.Minute, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for f := range strings.SplitSeq(strings.TrimRight(files, "\x00"), "\x00") {
		src := filepath.Join(root, f)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a plain file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	run(t, 5*time.Minute, dst, env, "go", "mod", "vendor")
	return dst
}

// project is one compose project started by a test: its own name, image tag and host
// ports, so that runs do not collide with each other or with a user's `make up`.
type project struct {
	t       *testing.T
	compose []string // docker-compose, or docker compose
	dir     string   // project directory (a vendored copy of the repository)
	name    string
	image   string
	ports   map[string]int // service → published host port
	env     []string
}

// newProject prepares a uniquely named project in dir; its cleanup runs `down -v`,
// removes its image and fails the test if anything labelled with its name is left.
func newProject(t *testing.T, compose []string, dir string, imgs testImages) *project {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "pltest" + hex.EncodeToString(b[:])
	p := &project{t: t, compose: compose, dir: dir, name: name, image: "predictlab-test/app:" + name,
		ports: servicePorts(t, "sync-model", "sync-scoring", "async-model", "async-scoring", "loadgen-ui")}
	p.env = append(os.Environ(),
		"COMPOSE_PROJECT_NAME="+name,
		"COMPOSE_DOCKER_CLI_BUILD=0", // docker-compose 1.x: build through the engine API
		"PREDICTLAB_IMAGE="+p.image,
		"PREDICTLAB_GO_IMAGE="+imgs.Go,
		"PREDICTLAB_RUNTIME_IMAGE="+imgs.Runtime,
		"PREDICTLAB_REDIS_IMAGE="+imgs.Redis,
		"PREDICTLAB_GOFLAGS=-buildvcs=false -mod=vendor",
		"PREDICTLAB_VERSION=enginetest",
		"PREDICTLAB_COMMIT="+name,
		"PREDICTLAB_PUBLISH_IP=127.0.0.1",
		"PREDICTLAB_SYNC_MODEL_PORT="+strconv.Itoa(p.ports["sync-model"]),
		"PREDICTLAB_SYNC_SCORING_PORT="+strconv.Itoa(p.ports["sync-scoring"]),
		"PREDICTLAB_ASYNC_MODEL_PORT="+strconv.Itoa(p.ports["async-model"]),
		"PREDICTLAB_ASYNC_SCORING_PORT="+strconv.Itoa(p.ports["async-scoring"]),
		"PREDICTLAB_UI_PORT="+strconv.Itoa(p.ports["loadgen-ui"]),
	)
	t.Cleanup(func() {
		out, err := p.tryCompose(3*time.Minute, "--profile", "lab", "--profile", "ui", "--profile", "distributed", "down", "-v", "--remove-orphans", "--timeout", "10")
		if err != nil {
			t.Errorf("cleanup: down -v: %v\n%s", err, out)
		}
		_, _ = tryRun(t, time.Minute, "", nil, "docker", "rmi", "--force", p.image)
		label := "label=com.docker.compose.project=" + name
		for _, kind := range []string{"container", "network", "volume"} {
			args := []string{kind, "ls", "-q", "--filter", label}
			if kind == "container" {
				args = []string{"ps", "-a", "-q", "--filter", label}
			}
			if left, _ := tryRun(t, time.Minute, "", nil, "docker", args...); strings.TrimSpace(left) != "" {
				t.Errorf("after down -v, %ss of project %s are left: %s", kind, name, strings.Fields(left))
			}
		}
	})
	return p
}

// servicePorts picks a free loopback port below the ephemeral range for each name
// (another process could take one before Docker binds it; `up` then fails loudly).
func servicePorts(t *testing.T, names ...string) map[string]int {
	t.Helper()
	ports := map[string]int{}
	for i, port := range testutil.ServicePorts(t, len(names)) {
		ports[names[i]] = port
	}
	return ports
}

func (p *project) tryCompose(timeout time.Duration, args ...string) (string, error) {
	p.t.Helper()
	argv := append(slices.Clone(p.compose[1:]), args...)
	return tryRun(p.t, timeout, p.dir, p.env, p.compose[0], argv...)
}

func (p *project) composeRun(timeout time.Duration, args ...string) string {
	p.t.Helper()
	out, err := p.tryCompose(timeout, args...)
	if err != nil {
		p.t.Fatalf("compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// url is the published address of service's route on the host.
func (p *project) url(service, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(p.ports[service]) + path
}

// containerState is what the tests read from `docker inspect`.
type containerState struct {
	Name  string
	State struct {
		Status     string
		ExitCode   int
		StartedAt  time.Time
		FinishedAt time.Time
		Health     *struct {
			Status string
			Log    []struct {
				End      time.Time
				ExitCode int
			}
		}
	}
	Config struct {
		Labels map[string]string
	}
}

// containers returns the project's containers by compose service name.
func (p *project) containers() map[string]containerState {
	p.t.Helper()
	ids := strings.Fields(run(p.t, time.Minute, "", nil, "docker", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+p.name))
	if len(ids) == 0 {
		return nil
	}
	var states []containerState
	out := run(p.t, time.Minute, "", nil, "docker", append([]string{"inspect"}, ids...)...)
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		p.t.Fatalf("docker inspect: %v", err)
	}
	m := map[string]containerState{}
	for _, s := range states {
		m[s.Config.Labels["com.docker.compose.service"]] = s
	}
	return m
}

// waitHealthy waits until every named service's container is healthy, for at most d.
func (p *project) waitHealthy(d time.Duration, services ...string) map[string]containerState {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		cs := p.containers()
		var notYet []string
		for _, s := range services {
			c, ok := cs[s]
			switch {
			case !ok:
				notYet = append(notYet, s+": no container")
			case c.State.Status != "running":
				notYet = append(notYet, s+": "+c.State.Status)
			case c.State.Health == nil || c.State.Health.Status != "healthy":
				h := "no healthcheck"
				if c.State.Health != nil {
					h = c.State.Health.Status
				}
				notYet = append(notYet, s+": "+h)
			}
		}
		if len(notYet) == 0 {
			return cs
		}
		if time.Now().After(deadline) {
			logs, _ := p.tryCompose(time.Minute, "logs", "--tail", "30")
			p.t.Fatalf("not healthy after %s: %s\n%s", d, strings.Join(notYet, "; "), logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// healthyBefore reports whether one of c's healthchecks passed before t.
func healthyBefore(c containerState, t time.Time) bool {
	if c.State.Health == nil || t.IsZero() {
		return false
	}
	for _, l := range c.State.Health.Log {
		if l.ExitCode == 0 && l.End.Before(t) {
			return true
		}
	}
	return false
}

var seedBody = "[5.1, 3.5, 1.4, 0.2]"

// predict posts the seed's input to service's route and returns the status and body.
func (p *project) predict(client *http.Client, service string) (int, string, error) {
	route := "sync"
	if strings.HasPrefix(service, "async") {
		route = "async"
	}
	resp, err := client.Post(p.url(service, "/api/v1/ml/"+route+"/predict"), "application/json", strings.NewReader(seedBody))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// redisStat reads one counter of Redis's INFO stats, through redis-cli in its container.
func (p *project) redisStat(name string) int {
	p.t.Helper()
	out := p.composeRun(time.Minute, "exec", "-T", "redis", "redis-cli", "info", "stats")
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				p.t.Fatalf("redis %s = %q", name, v)
			}
			return n
		}
	}
	p.t.Fatalf("redis info stats has no %s:\n%s", name, out)
	return 0
}

// TestEngine is issue-level proof that the containers work, on a real engine: the
// Dockerfile builds (once, through Compose, from base images made offline), `up -d`
// starts redis and the four services healthy in depends_on order, the seed's curls
// answer through the published ports and the feature lookups hit, the image is small,
// non-root and shell-less, the web UI profile drives a test, `make docker-lab
// PROFILE=smoke` leaves a complete report owned by the caller, a killed model gives 502s
// and a restarted Redis 503s with recovery after both, `stop` drains and exits cleanly,
// and `down -v` leaves nothing. The steps share one project (starting it costs a minute),
// so they run in order.
func TestEngine(t *testing.T) {
	compose := requireEngine(t)
	if testing.Short() {
		t.Skip("builds images and starts containers; skipped with -short")
	}
	t.Logf("compose: %s", firstLine(run(t, time.Minute, "", nil, compose[0], append(compose[1:], "version")...)))
	imgs := buildTestImages(t)
	dir := vendoredCopy(t)
	p := newProject(t, compose, dir, imgs)

	// One build, by `up` itself: only sync-model builds, the others name its image.
	start := time.Now()
	out := p.composeRun(20*time.Minute, "up", "-d")
	cold := time.Since(start)
	// Read the health logs now: the engine keeps only the last five probes of each.
	started := p.containers()
	built := regexp.MustCompile(`(?m)^Building (\S+)`).FindAllStringSubmatch(out, -1)
	if len(built) != 1 || built[0][1] != "sync-model" {
		t.Errorf("up -d built %v, want sync-model only:\n%s", built, out)
	}
	if strings.Contains(out, "Pulling") {
		t.Errorf("up -d pulled an image:\n%s", out)
	}
	start = time.Now()
	out = p.composeRun(10*time.Minute, "build")
	warm := time.Since(start)
	if n := strings.Count(out, "Step 1/"); n != 1 {
		t.Errorf("compose build ran %d builds, want 1:\n%s", n, out)
	}
	t.Logf("image build: cold (up -d: build, then start) %s; warm (compose build, no change) %s", cold.Round(time.Second), warm.Round(time.Second))

	services := []string{"redis", "sync-model", "sync-scoring", "async-model", "async-scoring"}
	p.waitHealthy(2*time.Minute, services...)
	t.Run("DependsOnOrder", func(t *testing.T) {
		for svc, deps := range map[string][]string{"sync-scoring": {"redis", "sync-model"}, "async-scoring": {"redis", "async-model"}} {
			for _, dep := range deps {
				if !healthyBefore(started[dep], started[svc].State.StartedAt) {
					t.Errorf("%s started at %s; %s had passed no healthcheck by then (%+v)", svc, started[svc].State.StartedAt, dep, started[dep].State.Health)
				}
			}
		}
	})

	client := &http.Client{Timeout: 10 * time.Second}
	t.Run("SeedCurls", func(t *testing.T) {
		hits := p.redisStat("keyspace_hits")
		resp, err := client.Get(p.url("sync-model", "/api/v1/healthcheck"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"status":"OK"}` {
			t.Errorf("healthcheck: %d %s", resp.StatusCode, b)
		}
		for _, svc := range services[1:] {
			code, body, err := p.predict(client, svc)
			var d struct{ Detail *float64 }
			if err != nil || code != 200 || json.Unmarshal([]byte(body), &d) != nil || d.Detail == nil {
				t.Errorf("%s: POST predict: %d %q %v, want 200 {\"detail\": number}", svc, code, body, err)
			}
		}
		// Each scoring request looked its features up once; the seeded vector was there.
		if got := p.redisStat("keyspace_hits") - hits; got != 2 {
			t.Errorf("feature lookups that hit: %d, want 2 (one per scoring request)", got)
		}
	})

	t.Run("Image", func(t *testing.T) {
		var img []struct {
			Size   int64
			Config struct {
				User       string
				Entrypoint []string
			}
		}
		if err := json.Unmarshal([]byte(run(t, time.Minute, "", nil, "docker", "image", "inspect", p.image)), &img); err != nil || len(img) != 1 {
			t.Fatalf("image inspect: %v", err)
		}
		t.Logf("runtime image %s: %.1f MB (%d bytes), user %q, entrypoint %q", p.image, float64(img[0].Size)/1e6, img[0].Size, img[0].Config.User, img[0].Config.Entrypoint)
		// The one multi-call binary is almost all of it.
		if mb := float64(img[0].Size) / 1e6; mb > 40 {
			t.Errorf("image size %.1f MB, want at most 40 MB", mb)
		}
		if want := []string{"/usr/local/bin/targets"}; !slices.Equal(img[0].Config.Entrypoint, want) {
			t.Errorf("entrypoint %q, want %q", img[0].Config.Entrypoint, want)
		}
		// One binary, and the three program names as links to it (a copy instead of a
		// link would triple the image).
		bin := imageFiles(t, p.image, "/usr/local/bin")
		if f := bin["bin/predictlab"]; f.Typeflag != tar.TypeReg {
			t.Errorf("/usr/local/bin/predictlab: %+v, want a regular file", f)
		} else {
			t.Logf("/usr/local/bin/predictlab: %.1f MB (%d bytes)", float64(f.Size)/1e6, f.Size)
		}
		for _, name := range []string{"targets", "loadgen", "lab"} {
			if f := bin["bin/"+name]; f.Typeflag != tar.TypeSymlink || f.Linkname != "predictlab" {
				t.Errorf("/usr/local/bin/%s: type %q, link %q; want a link to predictlab", name, f.Typeflag, f.Linkname)
			}
		}
		if len(bin) != 5 { // the folder, the binary, the three links
			t.Errorf("/usr/local/bin holds %d entries, want the binary and its three links", len(bin)-1)
		}
		if uid, _, _ := strings.Cut(img[0].Config.User, ":"); uid == "" || uid == "0" || uid == "root" {
			t.Errorf("image user %q, want non-root", img[0].Config.User)
		}
		// Nothing in it runs a shell: not the healthchecks, not the entrypoints.
		if out, err := tryRun(t, time.Minute, "", nil, "docker", "run", "--rm", "--entrypoint", "/bin/sh", p.image, "-c", "true"); err == nil {
			t.Errorf("the image has a shell (/bin/sh -c true succeeded): %s", out)
		}
		// Each name runs its program, with the version the build args gave.
		for _, name := range []string{"targets", "loadgen", "lab"} {
			out := run(t, time.Minute, "", nil, "docker", "run", "--rm", "--entrypoint", "/usr/local/bin/"+name, p.image, "--version")
			if want := name + " enginetest (commit " + p.name + ")"; strings.TrimSpace(out) != want {
				t.Errorf("%s --version = %q, want %q", name, out, want)
			}
		}
	})

	t.Run("WebUI", func(t *testing.T) { testWebUI(t, p, client) })
	t.Run("DockerLab", func(t *testing.T) { testDockerLab(t, p) })
	t.Run("Distributed", func(t *testing.T) { testDistributed(t, p) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, p) })

	t.Run("Stop", func(t *testing.T) {
		start := time.Now()
		p.composeRun(2*time.Minute, "stop")
		t.Logf("compose stop (5 services): %s", time.Since(start).Round(100*time.Millisecond))
		for svc, c := range p.containers() {
			if !slices.Contains(services, svc) {
				continue
			}
			t.Logf("%s exited %s after the stop began", svc, c.State.FinishedAt.Sub(start).Round(10*time.Millisecond))
			// 0: it drained and exited on SIGTERM; 137 would be the kill after the grace period.
			if c.State.Status != "exited" || (svc != "redis" && c.State.ExitCode != 0) {
				t.Errorf("%s after stop: %s, exit code %d; want exited, 0", svc, c.State.Status, c.State.ExitCode)
			}
		}
	})
}

// testWebUI starts the ui profile's web UI and runs a short test through Locust's routes
// against the async scoring service, then stops it.
func testWebUI(t *testing.T, p *project, client *http.Client) {
	p.composeRun(5*time.Minute, "--profile", "ui", "up", "-d", "loadgen-ui")
	base := p.url("loadgen-ui", "")
	deadline := time.Now().Add(time.Minute)
	var page string
	for {
		resp, err := client.Get(base + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				page = string(b)
				break
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			logs, _ := p.tryCompose(time.Minute, "--profile", "ui", "logs", "--tail", "30", "loadgen-ui")
			t.Fatalf("web UI on %s: %v\n%s", base, err, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(page, "http://async-scoring:8001") {
		t.Errorf("web UI page does not offer the host http://async-scoring:8001")
	}
	form := url.Values{"user_count": {"2"}, "spawn_rate": {"2"}, "host": {"http://async-scoring:8001"}}
	resp, err := client.PostForm(base+"/swarm", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /swarm: %d %s", resp.StatusCode, b)
	}
	defer func() {
		if resp, err := client.Get(base + "/stop"); err == nil {
			resp.Body.Close()
		}
		p.composeRun(2*time.Minute, "--profile", "ui", "rm", "--stop", "--force", "loadgen-ui")
	}()
	var stats struct {
		Stats []struct {
			Name        string `json:"name"`
			NumRequests int    `json:"num_requests"`
			NumFailures int    `json:"num_failures"`
		} `json:"stats"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		time.Sleep(time.Second)
		resp, err := client.Get(base + "/stats/requests")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&stats)
			resp.Body.Close()
		}
		for _, s := range stats.Stats {
			if s.Name == "Aggregated" && s.NumRequests >= 3 {
				if s.NumFailures != 0 {
					t.Errorf("web UI test against async-scoring: %d of %d requests failed", s.NumFailures, s.NumRequests)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("web UI test made fewer than 3 requests in 30 s (%v): %+v", err, stats)
		}
	}
}

// imageFiles lists the folder dir of image as `docker cp` archives it from a container
// created (never started) from the image: each entry by its name in the archive (under
// the folder's base name), links as links.
func imageFiles(t *testing.T, image, dir string) map[string]tar.Header {
	t.Helper()
	out := strings.Fields(run(t, time.Minute, "", nil, "docker", "create", image))
	id := out[len(out)-1] // after any warning
	defer func() { _, _ = tryRun(t, time.Minute, "", nil, "docker", "rm", "--force", id) }()
	ctx, cancel := contextWithTimeout(t, time.Minute)
	defer cancel()
	archive, err := exec.CommandContext(ctx, "docker", "cp", id+":"+dir, "-").Output()
	if err != nil {
		t.Fatalf("docker cp %s:%s -: %v", id, dir, err)
	}
	files := map[string]tar.Header{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("docker cp %s: %v", dir, err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = *h
	}
}

// labUID and labGID are who runs `make docker-lab` when the test runs as root: a user
// with no name and no privilege, who reaches the engine only through its socket's group.
const labUID, labGID = 4242, 4242

// testDockerLab runs `make docker-lab PROFILE=smoke` and checks the report it leaves in
// ./output, all owned by the user who ran make, and that the lab container ran as that
// user. Run by root this would prove little (the container then runs as root too), so a
// test running as root runs make as labUID:labGID instead, in a copy of the project.
func testDockerLab(t *testing.T, p *project) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dir, env, uid, gid := p.dir, p.env, os.Getuid(), os.Getgid()
	argv := []string{"make", "docker-lab", "PROFILE=smoke", "COMPOSE=" + strings.Join(p.compose, " "),
		"VERSION=enginetest", "COMMIT=" + p.name} // the version `up` built
	if uid == 0 {
		uid, gid = labUID, labGID
		dir, env = unprivilegedCopy(t, p, uid, gid)
		argv = append(unprivileged(t, uid, gid), argv...)
	}
	t.Logf("make docker-lab as %d:%d in %s", uid, gid, dir)
	watch := watchLab(p)
	out, err := tryRun(t, 10*time.Minute, dir, env, argv[0], argv[1:]...)
	ran := watch.stop()
	if err != nil {
		t.Fatalf("make docker-lab PROFILE=smoke: %v\n%s", err, out)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "output", "docker-*"))
	if len(runs) != 1 {
		t.Fatalf("output/docker-* = %q, want one run folder\n%s", runs, out)
	}
	var res struct {
		Status string `json:"status"`
	}
	b, err := os.ReadFile(filepath.Join(runs[0], "results.json"))
	if err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("results.json: %v", err)
	}
	if res.Status != "complete" {
		t.Errorf("results.json status %q, want complete", res.Status)
	}
	want := []string{"index.html", "summary.md", "results.json"}
	for _, exp := range []string{"response_time", "load_test", "max_performance", "stress_test"} {
		for _, target := range []string{"sync", "async"} {
			want = append(want, exp+"_"+target+".html", exp+"_"+target+"_stats.csv", exp+"_"+target+"_stats_history.csv")
		}
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(runs[0], f)); err != nil {
			t.Errorf("report file: %v", err)
		}
	}
	// Everything the container wrote belongs to the user who ran make.
	files := 0
	err = filepath.WalkDir(filepath.Join(dir, "output"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("stat %s: no owner", path)
		}
		if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s is owned by %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, gid)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d files and folders under output/, all owned by %d:%d", files, uid, gid)
	// And so did the container's processes, as the kernel saw them while it ran.
	if len(ran) == 0 {
		t.Errorf("no lab container seen running during make docker-lab")
	}
	for id, c := range ran {
		if c.user != fmt.Sprintf("%d:%d", uid, gid) {
			t.Errorf("lab container %.12s: user %q, want %d:%d", id, c.user, uid, gid)
		}
		for _, pr := range c.procs {
			if pr.uid != uid || pr.gid != gid {
				t.Errorf("lab container %.12s: %q ran as %d:%d, want %d:%d", id, pr.args, pr.uid, pr.gid, uid, gid)
			}
		}
		t.Logf("lab container %.12s: user %s, processes %+v", id, c.user, c.procs)
	}
}

// unprivileged returns the command prefix that runs a command as uid:gid with, as its
// one supplementary group, the group of the engine's socket (so that it can use the
// engine as a member of the docker group would). setpriv is util-linux's.
func unprivileged(t *testing.T, uid, gid int) []string {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("running make as %d:%d needs setpriv (util-linux): %v", uid, gid, err)
	}
	groups := "--clear-groups" // an engine over TCP needs no group
	if host := os.Getenv("DOCKER_HOST"); host == "" || strings.HasPrefix(host, "unix://") {
		sock := cmp.Or(strings.TrimPrefix(host, "unix://"), "/var/run/docker.sock")
		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatalf("engine socket: %v", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm()&0o060 != 0o060 {
			t.Fatalf("engine socket %s has mode %s: its group %d cannot use it, so neither can uid %d", sock, fi.Mode(), st.Gid, uid)
		}
		groups = "--groups=" + strconv.Itoa(int(st.Gid))
	}
	return []string{setpriv, "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), groups, "--"}
}

// unprivilegedCopy copies the project for uid:gid and returns its folder and the
// environment to run make there with (a HOME of its own). The copy keeps the files'
// owner (root) and modes: the build cache keys on them, and a copy owned by uid would
// rebuild the image from scratch (minutes) for nothing. uid can read all of it and
// write where make and the lab write: the project folder and output/. Everything is
// in t's temporary folder, which root removes at the end whoever owns the files.
func unprivilegedCopy(t *testing.T, p *project, uid, gid int) (dir string, env []string) {
	t.Helper()
	tmp := t.TempDir()
	// t.TempDir's parent is private to root: let uid through it (not list it).
	if err := os.Chmod(filepath.Dir(tmp), 0o711); err != nil {
		t.Fatal(err)
	}
	dir, home := filepath.Join(tmp, "predictlab"), filepath.Join(tmp, "home")
	run(t, 5*time.Minute, "", nil, "cp", "-a", p.dir, dir)
	for _, d := range []string{filepath.Join(dir, "output"), home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{tmp, dir, filepath.Join(dir, "output"), home} {
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir, append(slices.Clone(p.env), "HOME="+home)
}

// labRun is what one lab container ran as: the user the engine was given, and the
// processes in it with their uid and gid as the kernel has them (docker top).
type labRun struct {
	user  string
	procs []labProc
}

type labProc struct {
	uid, gid int
	args     string
}

// isLab reports whether the process is the lab (its init process names it too, later on
// its command line).
func (p labProc) isLab() bool { return strings.HasPrefix(p.args, "/usr/local/bin/lab ") }

// labWatch polls the project's lab containers (compose run's) while make runs.
type labWatch struct {
	done chan struct{}
	ran  chan map[string]labRun
}

// watchLab starts polling the project's running lab containers every half second until
// stop; the container has gone (--rm) by the time make returns.
func watchLab(p *project) *labWatch {
	w := &labWatch{done: make(chan struct{}), ran: make(chan map[string]labRun, 1)}
	docker := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", args...).Output()
		return string(out), err
	}
	go func() {
		ran := map[string]labRun{}
		defer func() { w.ran <- ran }()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			ids, _ := docker("ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p.name,
				"--filter", "label=com.docker.compose.service=lab")
			for _, id := range strings.Fields(ids) {
				if _, seen := ran[id]; seen {
					continue
				}
				user, err := docker("inspect", "--format", "{{.Config.User}}", id)
				if err != nil {
					continue // gone already
				}
				top, err := docker("top", id, "-eo", "pid,uid,gid,args")
				if err != nil {
					continue
				}
				r := labRun{user: strings.TrimSpace(user)}
				for _, line := range strings.Split(strings.TrimSpace(top), "\n")[1:] {
					f := strings.Fields(line)
					if len(f) < 4 {
						continue
					}
					uid, _ := strconv.Atoi(f[1])
					gid, _ := strconv.Atoi(f[2])
					r.procs = append(r.procs, labProc{uid: uid, gid: gid, args: strings.Join(f[3:], " ")})
				}
				// Recorded once the lab itself runs: before, the init process may be alone.
				if slices.ContainsFunc(r.procs, labProc.isLab) {
					ran[id] = r
				}
			}
		}
	}()
	return w
}

// stop ends the polling and returns what each lab container seen ran as, by id.
func (w *labWatch) stop() map[string]labRun {
	close(w.done)
	return <-w.ran
}

// prober sends the seed's request to a scoring service every 20 ms and records the
// status codes in order, until stopped.
type prober struct {
	mu    sync.Mutex
	codes []int // 0: a transport error
	stop  chan struct{}
	done  chan struct{}
}

func startProber(p *project, service string) *prober {
	pr := &prober{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(pr.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pr.stop:
				return
			case <-tick.C:
			}
			code, _, _ := p.predict(client, service)
			pr.mu.Lock()
			pr.codes = append(pr.codes, code)
			pr.mu.Unlock()
		}
	}()
	return pr
}

// waitFor waits, for at most d, until a response with code arrives after the first n.
// It returns the number of responses so far.
func (pr *prober) waitFor(t *testing.T, after int, d time.Duration, what string, codes ...int) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		pr.mu.Lock()
		n := len(pr.codes)
		found := slices.ContainsFunc(pr.codes[min(after, n):], func(c int) bool { return slices.Contains(codes, c) })
		pr.mu.Unlock()
		if found {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %v within %s (responses after #%d: %v)", what, codes, d, after, pr.summary(after))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summary counts the codes after the first n.
func (pr *prober) summary(after int) map[int]int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	m := map[int]int{}
	for _, c := range pr.codes[min(after, len(pr.codes)):] {
		m[c]++
	}
	return m
}

func (pr *prober) close() {
	close(pr.stop)
	<-pr.done
}

// testFaults kills the sync model mid-run (502s, then 200s after start) and restarts
// Redis (503s or 504s, then 200s, with the features there again).
func testFaults(t *testing.T, p *project) {
	pr := startProber(p, "sync-scoring")
	defer pr.close()
	n := pr.waitFor(t, 0, 10*time.Second, "before the faults", 200)

	p.composeRun(time.Minute, "kill", "sync-model")
	n = pr.waitFor(t, n, 20*time.Second, "sync-model killed", 502)
	p.composeRun(time.Minute, "start", "sync-model")
	n = pr.waitFor(t, n, time.Minute, "sync-model started again", 200)
	t.Logf("kill sync-model: %v", pr.summary(0))

	mark := n
	p.composeRun(time.Minute, "restart", "redis")
	// A request that finds Redis gone gets 503; one whose connection Redis dropped
	// mid-command waits out the store timeout and gets 504. A quick restart may show
	// only the second kind.
	n = pr.waitFor(t, mark, 30*time.Second, "redis restarting", 503, 504)
	n = pr.waitFor(t, n, time.Minute, "redis restarted", 200)
	t.Logf("restart redis: %v", pr.summary(mark))
	p.waitHealthy(time.Minute, "redis")
	// The restarted Redis started empty; the features must be back.
	hits := p.redisStat("keyspace_hits")
	client := &http.Client{Timeout: 10 * time.Second}
	if code, body, err := p.predict(client, "async-scoring"); code != 200 {
		t.Errorf("async-scoring after the redis restart: %d %s %v", code, body, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.redisStat("keyspace_hits")-hits < 1 {
		if time.Now().After(deadline) {
			keys, _ := p.tryCompose(time.Minute, "exec", "-T", "redis", "redis-cli", "keys", "*")
			t.Errorf("after the redis restart, feature lookups miss (keys: %q)", strings.Fields(keys))
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
}
