package webui

import (
	"math"
	"net/url"
	"strings"
	"testing"

	"predictlab/loadgen/internal/config"
)

// FuzzParseSwarm: any POST /swarm form is either refused with a message or
// accepted with values the runner can use.
func FuzzParseSwarm(f *testing.F) {
	f.Add("user_count=10&spawn_rate=2&host=http%3A%2F%2F127.0.0.1%3A1&run_time=1m")
	f.Add("user_count=-1&spawn_rate=NaN")
	f.Add("user_count=1e3&spawn_rate=Inf&host=%3Cx%3E")
	f.Add("user_count=5&spawn_rate=0.5&run_time=10ms")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		get := func(k string) (string, bool) {
			v, ok := form[k]
			if !ok || len(v) == 0 {
				return "", false
			}
			return v[0], true
		}
		req, err := parseSwarm(get, "http://127.0.0.1:9", config.ParseTimespan)
		if err != nil {
			if err.Error() == "" {
				t.Error("refusal without a message")
			}
			return
		}
		if req.users < 0 || req.users > maxUsers || !(req.spawnRate > 0) || math.IsInf(req.spawnRate, 0) || req.runTime < 0 {
			t.Errorf("accepted bad values: %+v", req)
		}
		if strings.ContainsAny(req.host, "<>") || !(strings.HasPrefix(req.host, "http://") || strings.HasPrefix(req.host, "https://")) {
			t.Errorf("accepted host %q", req.host)
		}
	})
}
