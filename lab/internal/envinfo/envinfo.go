// Package envinfo records the machine and build a lab run happened on, so a
// result can be compared with someone else's.
package envinfo

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"predictlab/lab/internal/jsonnum"
)

// Env is the environment record.
type Env struct {
	CPUModel  string `json:"cpu_model"`
	CPUs      int    `json:"cpus"`
	OS        string `json:"os"`
	Kernel    string `json:"kernel"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
	GitCommit string `json:"git_commit"`
	LabBuild  string `json:"lab_build"`
	Hostname  string `json:"-"`
}

// Collect reads the environment; fields it cannot learn stay "unknown".
// version is the lab binary's build stamp (may be empty).
func Collect(ctx context.Context, version string) Env {
	e := Env{CPUs: runtime.NumCPU(), Arch: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(),
		CPUModel: "unknown", OS: runtime.GOOS, Kernel: "unknown", GitCommit: "unknown", LabBuild: version}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := field(b, "model name", ':'); m != "" {
			e.CPUModel = m
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := strings.Trim(field(b, "PRETTY_NAME", '='), `"`); m != "" {
			e.OS = m
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output(); err == nil {
		e.GitCommit = strings.TrimSpace(string(out))
		if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			e.GitCommit += " (modified)"
		}
	}
	if e.LabBuild == "" {
		e.LabBuild = "dev"
	}
	return e
}

// LoadAvg returns the 1-minute load average from /proc/loadavg (NaN when
// unavailable).
func LoadAvg() jsonnum.Float {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return jsonnum.NaN()
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return jsonnum.NaN()
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return jsonnum.NaN()
	}
	return jsonnum.Float(v)
}

// field returns the value of the first "key<sep>value" line in b.
func field(b []byte, key string, sep byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		k, v, ok := strings.Cut(line, string(sep))
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
