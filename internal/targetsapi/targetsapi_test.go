package targetsapi

import (
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		ok   bool
		want Target
	}{{"sync", true, Sync}, {"async", true, Async}, {"", false, ""}, {"SYNC", false, ""}, {"both", false, ""}} {
		got, err := ParseTarget(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTarget(%q) = %q, %v", tc.in, got, err)
		}
	}
	for _, s := range []string{"blocking", "eventloop"} {
		if v, err := ParseStyle(s); err != nil || v.String() != s {
			t.Errorf("ParseStyle(%q) = %q, %v", s, v, err)
		}
	}
	if _, err := ParseStyle("threads"); err == nil {
		t.Error("ParseStyle(threads) succeeded")
	}
	if _, err := ParseFramework("gin"); err == nil {
		t.Error("ParseFramework(gin) succeeded")
	}
}

func TestTargetMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t                Target
		style            Style
		fw               Framework
		path, class      string
		modelP, scoringP int
	}{
		{Sync, Blocking, Echo, "/api/v1/ml/sync/predict", "ApiSyncUser", 5000, 5001},
		{Async, EventLoop, Fiber, "/api/v1/ml/async/predict", "ApiAsyncUser", 8000, 8001},
	} {
		if tc.t.Style() != tc.style || tc.t.Framework() != tc.fw || tc.t.PredictPath() != tc.path || tc.t.UserClass() != tc.class {
			t.Errorf("%s: %s %s %s %s", tc.t, tc.t.Style(), tc.t.Framework(), tc.t.PredictPath(), tc.t.UserClass())
		}
		if tc.style.Target() != tc.t || tc.style.Framework() != tc.fw {
			t.Errorf("style %s maps to %s %s", tc.style, tc.style.Target(), tc.style.Framework())
		}
		p := SeedPorts()
		if p.Of(tc.t, Model) != tc.modelP || p.Of(tc.t, Scoring) != tc.scoringP || p.Store != 6379 {
			t.Errorf("%s ports: %d %d %d", tc.t, p.Of(tc.t, Model), p.Of(tc.t, Scoring), p.Store)
		}
	}
}

func TestArgs(t *testing.T) {
	t.Parallel()
	m := Defaults(Model, Sync)
	m.Addr = "127.0.0.1:1"
	s := Defaults(Scoring, Async)
	s.ModelURL, s.CPUCost = "http://127.0.0.1:2", 5*time.Millisecond
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"model", m.Args(), []string{"model", "--style", "blocking", "--framework", "echo", "--route", "sync", "--addr", "127.0.0.1:1",
			"--workers", "8", "--backlog", "2048", "--loops", "1", "--cpu-cost", "0s", "--model-delay", "40ms-50ms", "--seed", "1"}},
		{"scoring", s.Args(), []string{"scoring", "--style", "eventloop", "--framework", "fiber", "--route", "async",
			"--workers", "8", "--backlog", "2048", "--loops", "1", "--cpu-cost", "5ms", "--model-url", "http://127.0.0.1:2",
			"--feature-store", "redis://127.0.0.1:6379", "--fanout", "2", "--model-timeout", "5s", "--store-timeout", "1s"}},
		{"store", Store{Addr: "0.0.0.0:6379", Password: "pw"}.Args(), []string{"featurestore", "--addr", "0.0.0.0:6379"}},
		{"store env", Store{Password: "pw"}.Env(), []string{"PREDICTLAB_FEATURE_STORE_PASSWORD=pw"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDelayRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		ok   bool
		want DelayRange
	}{
		{"40ms-50ms", true, DefaultModelDelay},
		{"45ms", true, DelayRange{45 * time.Millisecond, 45 * time.Millisecond}},
		{" 1s - 2s ", true, DelayRange{time.Second, 2 * time.Second}},
		{"0s", true, DelayRange{}},
		{"1s-", false, DelayRange{}},
		{"50ms-40ms", false, DelayRange{}},
		{"-5ms", false, DelayRange{}},
		{"x", false, DelayRange{}},
	} {
		got, err := ParseDelayRange(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDelayRange(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok {
			if back, err := ParseDelayRange(got.String()); err != nil || back != got {
				t.Errorf("round trip of %v: %v, %v", got, back, err)
			}
		}
	}
}

func FuzzParseDelayRange(f *testing.F) {
	for _, s := range []string{"40ms-50ms", "45ms", "1h-2h", "-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDelayRange(s)
		if err != nil {
			return
		}
		if d.Min < 0 || d.Max < d.Min {
			t.Fatalf("%q parsed to invalid %v", s, d)
		}
		if back, err := ParseDelayRange(d.String()); err != nil || back != d {
			t.Fatalf("round trip of %q: %v -> %v, %v", s, d, back, err)
		}
	})
}
