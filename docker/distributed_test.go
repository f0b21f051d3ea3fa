package docker_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeDistributed checks the distributed profile: a loadgen master and loadgen
// workers on the host's network, so that the workers join the master on 127.0.0.1 and
// the users reach async-scoring at its published 127.0.0.1 port; the master's worker port
// and web UI on 127.0.0.1 unless the variables say otherwise; workers that can be scaled
// (no fixed name or port). Both exist only under the profile.
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

	tests := []struct {
		name string
		env  map[string]string
		// the master's flags
		bind, port, webHost, webPort, host string
	}{
		{name: "default", bind: "127.0.0.1", port: "5557", webHost: "127.0.0.1", webPort: "8089", host: "http://127.0.0.1:8001"},
		{
			name: "variables",
			env: map[string]string{"PREDICTLAB_MASTER_BIND": "0.0.0.0", "PREDICTLAB_MASTER_PORT": "6557",
				"PREDICTLAB_PUBLISH_IP": "0.0.0.0", "PREDICTLAB_UI_PORT": "9089", "PREDICTLAB_ASYNC_SCORING_PORT": "9001"},
			bind: "0.0.0.0", port: "6557", webHost: "0.0.0.0", webPort: "9089", host: "http://127.0.0.1:9001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := loadCompose(t, tt.env, "distributed")
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
				// On the host's network a published port means nothing (Docker discards it)
				// and no compose network is joined.
				if s.NetworkMode != "host" || len(s.Ports) != 0 || len(s.Expose) != 0 || len(s.Networks) != 0 {
					t.Errorf("%s: network_mode %q, ports %+v, expose %q, networks %v; want host only",
						name, s.NetworkMode, s.Ports, s.Expose, slices.Collect(maps.Keys(s.Networks)))
				}
			}

			mf := flagMap(t, master.Command[:len(master.Command)-1])
			for k, want := range map[string]string{"--master": "", "--master-bind-host": tt.bind, "--master-bind-port": tt.port,
				"--web-host": tt.webHost, "--web-port": tt.webPort, "--host": tt.host} {
				if got, ok := mf[k]; !ok || got != want {
					t.Errorf("master %s = %q (given %v), want %q", k, got, ok, want)
				}
			}
			// The default target is async-scoring as published on the host.
			as := p.Services["async-scoring"]
			if len(as.Ports) != 1 || "http://127.0.0.1:"+as.Ports[0].Published != mf["--host"] {
				t.Errorf("master --host %q is not async-scoring's published port (%+v)", mf["--host"], as.Ports)
			}
			for _, dep := range []string{"sync-scoring", "async-scoring"} {
				if d, ok := master.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("master depends_on %s = %+v (given %v), want service_healthy", dep, d, ok)
				}
			}

			wf := flagMap(t, worker.Command[:len(worker.Command)-1])
			if _, ok := wf["--worker"]; !ok || wf["--master-host"] != "127.0.0.1" || wf["--master-port"] != tt.port {
				t.Errorf("worker flags %v do not join the master at 127.0.0.1:%s", wf, tt.port)
			}
			if worker.ContainerName != "" {
				t.Errorf("worker container name %q: it could not be scaled", worker.ContainerName)
			}
			if _, ok := worker.DependsOn["loadgen-master"]; !ok {
				t.Errorf("worker depends_on = %v, want loadgen-master", worker.DependsOn)
			}
		})
	}
}
