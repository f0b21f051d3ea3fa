package command

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/results"
)

// standIn is a tiny external service the lab knows nothing about: a
// healthcheck and a predict route that answers after delay, and no
// /metrics (nor anything else predictlab's services export).
func standIn(t *testing.T, tn targetsapi.Target, delay time.Duration) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+targetsapi.HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	})
	mux.HandleFunc("POST "+tn.PredictPath(), func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"detail":0.5}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestExternalStandInsMakeNoInventedClaims runs `lab run --external
// --profile smoke` against stand-ins without /metrics and checks that the
// report is complete and claims nothing the lab could not know: no
// workers or loops, no floor, no predicted capacity, "unknown" with its
// reason, and one line instead of an empty internals table. With parts
// stated on the command line, the prediction uses them and results.json
// records them.
func TestExternalStandInsMakeNoInventedClaims(t *testing.T) {
	bin := buildBinaries(t)
	syncURL, asyncURL := standIn(t, targetsapi.Sync, 10*time.Millisecond), standIn(t, targetsapi.Async, 5*time.Millisecond)
	base := []string{"run", "--external", "--profile", "smoke", "--sync-url", syncURL, "--async-url", asyncURL,
		"--loadgen-bin", filepath.Join(bin, "loadgen")}
	tests := []struct {
		name        string
		extra       []string
		targets     int
		want, never []string
		stated      string // results.json's settings.stated, as JSON
	}{
		{name: "nothing stated", targets: 2,
			want: []string{"unknown", "--external and no --sync-workers given", "--external and no --async-loops or --cpu-cost given",
				"no --model-delay or --fanout given", "nothing was stated",
				"None: the services exposed no predictlab metrics on /metrics"},
			// No workers or loops number, floor or capacity the lab made up.
			never: []string{"W / E[S]", "L / c", "workers 8", "loops 1", "above its", "not CPU-bound", "req/s ≈",
				"mean workers busy", "predicted 8", "assuming the profile"},
			stated: "null"},
		{name: "workers stated", extra: []string{"--only", "sync", "--experiments", "1,2", "--sync-workers", "2"}, targets: 1,
			want:   []string{"W / E[S] = 2 / ", "--sync-workers 2", "req/s ≈"},
			never:  []string{"W / E[S] = 8", "workers 8"},
			stated: `{"sync_workers":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"), append(append(append([]string(nil), base...), "--out", out), tc.extra...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			t.Logf("lab output:\n%s%s", stdout.String(), stderr.String())
			if err != nil {
				t.Fatalf("lab run: %v", err)
			}
			r, err := results.Read(filepath.Join(out, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != "complete" || len(r.Targets) != tc.targets || !r.Settings.External {
				t.Fatalf("status %q, %d targets, external %v", r.Status, len(r.Targets), r.Settings.External)
			}
			if got, _ := json.Marshal(r.Settings.Stated); string(got) != tc.stated {
				t.Errorf("results.json settings.stated = %s, want %s", got, tc.stated)
			}
			for _, tg := range r.Targets {
				if s := tg.Settings; s.Scoring.Workers != 0 || s.Scoring.Loops != 0 || s.Model.ModelDelayMax != 0 {
					t.Errorf("%s: results.json gives the external service settings %+v", tg.Name, s)
				}
				for _, e := range tg.Experiments {
					if e.Failed != "" || e.Stats == nil || e.Stats.Requests == 0 {
						t.Errorf("%s: no result (%s)", e.File, e.Failed)
					}
				}
			}
			var report strings.Builder
			for _, f := range []string{"summary.md", "index.html"} {
				b, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				report.Write(b)
			}
			text := report.String()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(text, n) {
					t.Errorf("report claims %q", n)
				}
			}
			// A predicted-users column holds only "unknown" or a stated figure.
			if tc.stated == "null" && regexp.MustCompile(`predicted \d`).MatchString(text) {
				t.Errorf("report predicts a user count from nothing stated")
			}
			if t.Failed() {
				md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
				t.Logf("summary.md:\n%s", md)
			}
		})
	}
}
