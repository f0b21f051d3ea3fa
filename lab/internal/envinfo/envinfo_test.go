package envinfo

import (
	"context"
	"testing"
)

func TestField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, key string
		sep           byte
		want          string
	}{
		{"cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n", "model name", ':', "AMD EPYC 7B13"},
		{"os-release", "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n", "PRETTY_NAME", '=', `"Debian GNU/Linux 12"`},
		{"missing", "a: b\n", "c", ':', ""},
	}
	for _, tc := range tests {
		if got := field([]byte(tc.in), tc.key, tc.sep); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()
	e := Collect(context.Background(), "")
	if e.CPUs < 1 || e.GoVersion == "" || e.LabBuild != "dev" {
		t.Errorf("got %+v", e)
	}
}
