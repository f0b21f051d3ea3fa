package docker_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeDistributed checks the distributed profile: a loadgen master whose web UI is
// published on 127.0.0.1:8089 only and whose worker port stays on the compose network, and
// loadgen workers that join it by service name and can be scaled (no fixed name or host
// port). Both exist only under the profile.
func TestComposeDistributed(t *testing.T) {
	off := loadCompose(t, nil)
	for _, name := range []string{"loadgen-master", "loadgen-worker"} {
		if _, on := off.Services[name]; on {
			t.Errorf("%s runs without its profile", name)
		}
		if _, ok := off.DisabledServices[name]; !ok {
			t.Errorf("%s is not a service of the file", name)
		}
	}
	p := loadCompose(t, nil, "distributed")
	master, ok1 := p.Services["loadgen-master"]
	worker, ok2 := p.Services["loadgen-worker"]
	if !ok1 || !ok2 {
		t.Fatalf("services with profile distributed: %q", slices.Sorted(maps.Keys(p.Services)))
	}
	for name, s := range map[string]types.ServiceConfig{"loadgen-master": master, "loadgen-worker": worker} {
		if !slices.Equal(s.Profiles, []string{"distributed"}) {
			t.Errorf("%s: profiles = %q, want [distributed]", name, s.Profiles)
		}
		if s.Image != "predictlab:local" || s.Build != nil {
			t.Errorf("%s: image %q build %+v, want predictlab:local, built by sync-model", name, s.Image, s.Build)
		}
		if !slices.Equal(s.Entrypoint, types.ShellCommand{"/usr/local/bin/loadgen"}) {
			t.Errorf("%s: entrypoint = %q", name, s.Entrypoint)
		}
		if n := len(s.Command); n == 0 || s.Command[n-1] != "ApiAsyncUser" {
			t.Errorf("%s: command %q does not end with the user class", name, s.Command)
		}
	}

	mf := flagMap(t, master.Command[:len(master.Command)-1])
	for k, want := range map[string]string{"--master": "", "--master-bind-host": "*", "--web-host": "*", "--web-port": "8089",
		"--host": "http://async-scoring:8001"} {
		if got, ok := mf[k]; !ok || got != want {
			t.Errorf("master %s = %q (given %v), want %q", k, got, ok, want)
		}
	}
	if len(master.Ports) != 1 || master.Ports[0].Target != 8089 || master.Ports[0].Published != "8089" || master.Ports[0].HostIP != "127.0.0.1" {
		t.Errorf("master ports = %+v, want only the web UI on 127.0.0.1:8089", master.Ports)
	}
	if !slices.Contains(master.Expose, mf["--master-bind-port"]) {
		t.Errorf("master exposes %q, not its worker port %q", master.Expose, mf["--master-bind-port"])
	}

	wf := flagMap(t, worker.Command[:len(worker.Command)-1])
	if _, ok := wf["--worker"]; !ok || wf["--master-host"] != "loadgen-master" || wf["--master-port"] != mf["--master-bind-port"] {
		t.Errorf("worker flags %v do not join the master at loadgen-master:%s", wf, mf["--master-bind-port"])
	}
	if len(worker.Ports) != 0 || worker.ContainerName != "" {
		t.Errorf("worker ports %+v, container name %q: it could not be scaled", worker.Ports, worker.ContainerName)
	}
	if _, ok := worker.DependsOn["loadgen-master"]; !ok {
		t.Errorf("worker depends_on = %v, want loadgen-master", worker.DependsOn)
	}
	if port, err := strconv.Atoi(mf["--master-bind-port"]); err != nil || port != 5557 {
		t.Errorf("master-bind-port %q, want Locust's 5557", mf["--master-bind-port"])
	}
}
