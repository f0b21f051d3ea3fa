// Package docker_test checks the container side of predictlab. Without an engine (part
// of `make test`): docker-compose.yml loaded through compose-spec/compose-go and
// validated by the installed Compose client, and the services' commands run outside
// Docker. With an engine (engine_test.go, `make docker-test`): the image builds and the
// containers start, answer, fail and recover as the README says.
package docker_test

import (
	"context"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"predictlab/internal/targetsapi"
)

// loadCompose loads docker-compose.yml the way `docker compose` would, but hermetically:
// the environment is exactly env (nothing from the test's own environment, no .env file),
// only local files are read, and nothing is pulled.
func loadCompose(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping(env),
	}
	p, err := loader.LoadWithContext(t.Context(), details, func(o *loader.Options) {
		o.SetProjectName("predictlab", true) // docker compose would use the directory's name
		o.Profiles = profiles
		o.ResourceLoaders = nil // local files only: no git/oci includes
	})
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// service describes what docker-compose.yml must say about one service.
type service struct {
	port      uint32            // published and listened-on port (0: not published)
	sub       string            // targets subcommand
	flags     map[string]string // flags the command must carry, with values
	dependsOn []string          // all with condition service_healthy
}

// wantServices is what the compose file must run: the services of internal/targetsapi
// with their default settings (the lab's), on the seed's ports, wired by compose service
// names, with Redis as the store. The compose commands spell out the settings a reader
// compares between runs (workers, backlog, loops, model delay, fan-out) and leave the
// rest (CPU cost 0, seed, timeouts) to targets' defaults.
var wantServices = func() map[string]service {
	spelled := []string{"--style", "--framework", "--route", "--addr", "--workers", "--backlog", "--loops",
		"--model-delay", "--model-url", "--feature-store", "--fanout"}
	ports := targetsapi.SeedPorts()
	m := map[string]service{"redis": {}}
	for _, tg := range targetsapi.Targets() {
		for _, role := range []targetsapi.Role{targetsapi.Model, targetsapi.Scoring} {
			name := string(tg) + "-" + string(role)
			port := ports.Of(tg, role)
			svc := targetsapi.Defaults(role, tg)
			svc.Addr = "0.0.0.0:" + strconv.Itoa(port)
			want := service{port: uint32(port), sub: string(role), flags: map[string]string{}}
			if role == targetsapi.Scoring {
				svc.ModelURL = "http://" + string(tg) + "-model:" + strconv.Itoa(ports.Of(tg, targetsapi.Model))
				svc.FeatureStore = "redis://redis:6379"
				want.flags["--seed-features"] = "" // Redis starts empty
				want.dependsOn = []string{"redis", string(tg) + "-model"}
			}
			args := svc.Args()[1:]
			for i := 0; i+1 < len(args); i += 2 {
				if slices.Contains(spelled, args[i]) {
					want.flags[args[i]] = args[i+1]
				}
			}
			m[name] = want
		}
	}
	return m
}()

// flagMap turns `--k=v` and `--k v` arguments into a map (a bare --k maps to "").
// A flag given twice is an error: which one wins would depend on the parser.
func flagMap(t *testing.T, args []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			t.Fatalf("unexpected positional argument %q in %q", a, args)
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			v = args[i+1]
			i++
		}
		if _, dup := m[k]; dup {
			t.Fatalf("flag %s given twice in %q", k, args)
		}
		m[k] = v
	}
	return m
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, nil)
	if got, want := slices.Sorted(maps.Keys(p.Services)), slices.Sorted(maps.Keys(wantServices)); !slices.Equal(got, want) {
		t.Errorf("services without profiles = %q, want %q", got, want)
	}
	if _, ok := p.DisabledServices["lab"]; !ok {
		t.Errorf("lab must exist and be disabled without its profile; disabled = %q", slices.Sorted(maps.Keys(p.DisabledServices)))
	}

	for name, want := range wantServices {
		t.Run(name, func(t *testing.T) {
			s := p.Services[name]
			if len(s.Profiles) != 0 {
				t.Errorf("profiles = %q, want none", s.Profiles)
			}

			// Dependencies: exactly the wanted ones, each waiting for a healthy service.
			if got := slices.Sorted(maps.Keys(s.DependsOn)); !slices.Equal(got, slices.Sorted(slices.Values(want.dependsOn))) {
				t.Errorf("depends_on = %q, want %q", got, want.dependsOn)
			}
			for dep, d := range s.DependsOn {
				if d.Condition != types.ServiceConditionHealthy {
					t.Errorf("depends_on %s: condition %q, want %s", dep, d.Condition, types.ServiceConditionHealthy)
				}
			}

			if name == "redis" {
				if s.Image != "redis:7.4-alpine" || s.Build != nil {
					t.Errorf("redis: image %q build %v, want redis:7.4-alpine", s.Image, s.Build)
				}
				if hc := s.HealthCheck; hc == nil || !slices.Equal(hc.Test, types.HealthCheckTest{"CMD", "redis-cli", "ping"}) {
					t.Errorf("redis healthcheck = %+v, want redis-cli ping", hc)
				}
				return
			}

			// One image; its entrypoint is targets.
			if s.Image != "predictlab:local" {
				t.Fatalf("image %q, want predictlab:local", s.Image)
			}
			if len(s.Entrypoint) != 0 {
				t.Errorf("entrypoint = %q, want the image's (targets)", s.Entrypoint)
			}
			if len(s.Command) == 0 || s.Command[0] != want.sub {
				t.Fatalf("command = %q, want targets %s ...", s.Command, want.sub)
			}
			flags := flagMap(t, s.Command[1:])
			for k, v := range want.flags {
				if flags[k] != v {
					t.Errorf("command %s = %q, want %q", k, flags[k], v)
				}
			}
			for k := range flags {
				if _, ok := want.flags[k]; !ok {
					t.Errorf("command has unexpected flag %s=%q", k, flags[k])
				}
			}

			// Healthcheck: the targets healthcheck subcommand on the service's own port.
			hc := s.HealthCheck
			wantTest := types.HealthCheckTest{"CMD", "/usr/local/bin/targets", "healthcheck",
				"http://127.0.0.1:" + strconv.Itoa(int(want.port)) + targetsapi.HealthPath}
			if hc == nil || !slices.Equal(hc.Test, wantTest) {
				t.Fatalf("healthcheck = %+v, want test %q", hc, wantTest)
			}
			if hc.Timeout == nil || time.Duration(*hc.Timeout) <= 2*time.Second {
				t.Errorf("healthcheck timeout = %v, want more than the subcommand's own 2 s", hc.Timeout)
			}
			if hc.Interval == nil || hc.Retries == nil || *hc.Retries == 0 {
				t.Errorf("healthcheck interval %v retries %v: want both set", hc.Interval, hc.Retries)
			}
		})
	}
}

// TestComposeURLsPointAtServices checks every URL in a command names a compose service
// and the port that service listens on.
func TestComposeURLsPointAtServices(t *testing.T) {
	p := loadCompose(t, nil, "lab")
	listen := map[string]string{"redis": "6379"}
	for name, s := range p.Services {
		if addr := flagValue(s.Command, "--addr"); addr != "" {
			_, port, _ := strings.Cut(addr, ":")
			listen[name] = port
		}
	}
	for name, s := range p.Services {
		for _, a := range s.Command {
			_, v, _ := strings.Cut(a, "=")
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				continue
			}
			if port, ok := listen[u.Hostname()]; !ok || port != u.Port() {
				t.Errorf("%s: %s: no service %q listening on port %s (listening: %v)", name, a, u.Hostname(), u.Port(), listen)
			}
		}
	}
}

// flagValue returns the value of --name=value in args, or "".
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// TestComposePublishedPorts checks that exactly the four APIs are published, each on the
// port it listens on, on 127.0.0.1 by default and on PREDICTLAB_PUBLISH_IP when set.
func TestComposePublishedPorts(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		hostIP string
	}{
		{"default", nil, "127.0.0.1"},
		{"all interfaces", map[string]string{"PREDICTLAB_PUBLISH_IP": "0.0.0.0"}, "0.0.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadCompose(t, tt.env, "lab")
			published := map[string]uint32{}
			for name, s := range p.Services {
				for _, port := range s.Ports {
					if port.Published == "" {
						t.Errorf("%s: port %d exposed on a random host port", name, port.Target)
						continue
					}
					published[name+":"+port.Published] = port.Target
					if port.HostIP != tt.hostIP || port.Protocol != "tcp" {
						t.Errorf("%s: port %s on %q/%s, want %s/tcp", name, port.Published, port.HostIP, port.Protocol, tt.hostIP)
					}
				}
			}
			want := map[string]uint32{}
			for name, s := range wantServices {
				if s.port != 0 {
					want[name+":"+strconv.Itoa(int(s.port))] = s.port
				}
			}
			if !maps.Equal(published, want) {
				t.Errorf("published ports = %v, want exactly %v", published, want)
			}
		})
	}
}

// TestComposeLab checks the lab service: only under its profile, the experiments against
// the compose services with --external, results into ./output through a bind mount, as
// a non-root user.
func TestComposeLab(t *testing.T) {
	tests := []struct {
		name              string
		env               map[string]string
		user, out, profle string
	}{
		{"defaults", nil, "65532:65532", "/output/docker", "full"},
		{"from make docker-lab", map[string]string{
			"PREDICTLAB_UID": "1000", "PREDICTLAB_GID": "1001",
			"PREDICTLAB_RUN": "docker-20261127-081500", "PREDICTLAB_PROFILE": "quick"},
			"1000:1001", "/output/docker-20261127-081500", "quick"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := repoRoot(t)
			p := loadCompose(t, tt.env, "lab")
			lab, ok := p.Services["lab"]
			if !ok {
				t.Fatal("no lab service with profile lab")
			}
			if !slices.Equal(lab.Profiles, []string{"lab"}) {
				t.Errorf("profiles = %q, want [lab]", lab.Profiles)
			}
			if lab.Image != "predictlab:local" || lab.Build != nil {
				t.Errorf("image %q build %+v, want predictlab:local, built by sync-model", lab.Image, lab.Build)
			}
			if !slices.Equal(lab.Entrypoint, types.ShellCommand{"/usr/local/bin/lab"}) {
				t.Errorf("entrypoint = %q, want [/usr/local/bin/lab]", lab.Entrypoint)
			}
			if len(lab.Command) == 0 || lab.Command[0] != "run" {
				t.Fatalf("command = %q, want lab run ...", lab.Command)
			}
			flags := flagMap(t, lab.Command[1:])
			for k, v := range map[string]string{
				"--external":    "",
				"--sync-url":    "http://sync-scoring:5001",
				"--async-url":   "http://async-scoring:8001",
				"--out":         tt.out,
				"--profile":     tt.profle,
				"--loadgen-bin": "/usr/local/bin/loadgen",
				"--targets-bin": "/usr/local/bin/targets",
				// The parts the lab is told the services have: the compose services' own.
				"--sync-workers": strconv.Itoa(targetsapi.DefaultWorkers),
				"--async-loops":  strconv.Itoa(targetsapi.DefaultLoops),
				"--fanout":       strconv.Itoa(targetsapi.DefaultFanout),
				"--model-delay":  targetsapi.DefaultModelDelay.String(),
				"--cpu-cost":     "0s",
			} {
				if got, ok := flags[k]; !ok || got != v {
					t.Errorf("command %s = %q (present %v), want %q", k, got, ok, v)
				}
			}
			if uid, _, _ := strings.Cut(lab.User, ":"); lab.User != tt.user || uid == "0" || uid == "root" {
				t.Errorf("user = %q, want %q (non-root)", lab.User, tt.user)
			}
			var mounted bool
			for _, v := range lab.Volumes {
				if v.Target != "/output" {
					continue
				}
				mounted = true
				if v.Type != types.VolumeTypeBind || v.Source != filepath.Join(root, "output") || v.ReadOnly {
					t.Errorf("/output volume = %+v, want a writable bind mount of ./output", v)
				}
			}
			if !mounted {
				t.Errorf("no volume on /output; volumes = %+v", lab.Volumes)
			}
			if !strings.HasPrefix(flags["--out"], "/output/") {
				t.Errorf("--out %q is not under the /output mount", flags["--out"])
			}

			for _, dep := range []string{"sync-scoring", "async-scoring"} {
				if d, ok := lab.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("depends_on %s = %+v (present %v), want service_healthy", dep, d, ok)
				}
			}
			if len(lab.Ports) != 0 {
				t.Errorf("lab publishes ports %+v, want none", lab.Ports)
			}
		})
	}
}

// TestComposeOneBuild checks that exactly one service builds the image (five services
// naming one build make Compose v2 build it five times at once, which fails), that the
// others name that image, and that the build context, Dockerfile and version args are right.
func TestComposeOneBuild(t *testing.T) {
	p := loadCompose(t, map[string]string{"PREDICTLAB_VERSION": "v1.2.3", "PREDICTLAB_COMMIT": "abc1234"}, "lab", "ui")
	var builders []string
	for name, s := range p.Services {
		if s.Build == nil {
			if name != "redis" && s.Image != "predictlab:local" {
				t.Errorf("%s: image %q, want predictlab:local", name, s.Image)
			}
			continue
		}
		builders = append(builders, name)
		if s.Image != "predictlab:local" {
			t.Errorf("%s: builds image %q, want predictlab:local", name, s.Image)
		}
		if fi, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: dockerfile %s in %s: %v", name, s.Build.Dockerfile, s.Build.Context, err)
		}
		for k, want := range map[string]string{"VERSION": "v1.2.3", "COMMIT": "abc1234",
			"GO_IMAGE": "golang:1.26-bookworm", "RUNTIME_IMAGE": "gcr.io/distroless/static-debian12:nonroot"} {
			if got := s.Build.Args[k]; got == nil || *got != want {
				t.Errorf("%s: build arg %s = %v, want %q", name, k, got, want)
			}
		}
	}
	if !slices.Equal(builders, []string{"sync-model"}) {
		t.Errorf("services that build: %q, want [sync-model]", builders)
	}
}

// TestComposeConfigCLI asks a real Compose client, when one is installed, to validate the
// file (`config` reads and checks it; it needs no engine). Skipped without a client.
func TestComposeConfigCLI(t *testing.T) {
	var argv []string
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		argv = []string{"docker", "compose"}
	} else if path, err := exec.LookPath("docker-compose"); err == nil {
		argv = []string{path}
	} else {
		t.Skip("no docker compose / docker-compose client installed")
	}
	root := repoRoot(t)
	for _, profile := range []string{"", "lab", "ui", "distributed"} {
		args := append(argv[1:], "--project-directory", root, "-f", filepath.Join(root, "docker-compose.yml"))
		if profile != "" {
			args = append(args, "--profile", profile)
		}
		args = append(args, "config", "-q")
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, argv[0], args...)
		cmd.Dir = root
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", argv[0], strings.Join(args, " "), err, out)
		}
	}
}

// repoRoot is the module root (the parent of this package's folder).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}
