// Package docker_test checks the container side of predictlab without a Docker engine:
// docker/Dockerfile is parsed and its `go build` commands are run outside Docker, and
// docker-compose.yml is loaded with compose-spec/compose-go and checked against the
// contracts (services, ports, healthchecks, dependencies, profiles, commands).
//
// What these tests cannot check: that the images build (base images pulled, layers
// cached) and that the containers start and answer. That needs an engine.
package docker_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// instruction is one Dockerfile instruction after line continuations are joined.
type instruction struct {
	Line  int      // 1-based line where the instruction starts
	Cmd   string   // upper-case instruction name: FROM, RUN, COPY, ...
	Flags []string // leading --flag[=value] options (RUN --mount=..., COPY --from=...)
	Args  string   // the rest of the instruction, verbatim
}

// stage is one build stage: its FROM line and the instructions after it.
type stage struct {
	Image string // FROM image with global ARGs substituted
	Name  string // the "AS name", or ""
	From  instruction
	Instr []instruction
}

// dockerfile is a parsed Dockerfile: global ARG defaults (before the first FROM) and stages.
type dockerfile struct {
	GlobalArgs map[string]string
	Stages     []stage
}

// parseDockerfile understands the subset of the Dockerfile syntax our file uses:
// comments, `\` line continuations, instruction flags, FROM ... AS name, and ARG defaults.
func parseDockerfile(text string) (*dockerfile, error) {
	var instrs []instruction
	var cur *instruction
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives), also inside continuations
		}
		if cur == nil {
			if trimmed == "" {
				continue
			}
			cmd, rest, _ := strings.Cut(trimmed, " ")
			instrs = append(instrs, instruction{Line: n, Cmd: strings.ToUpper(cmd)})
			cur = &instrs[len(instrs)-1]
			trimmed = rest
		}
		cont := strings.HasSuffix(trimmed, `\`)
		trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, `\`))
		if trimmed != "" {
			if cur.Args != "" {
				cur.Args += " "
			}
			cur.Args += trimmed
		}
		if !cont {
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dockerfile: %w", err)
	}
	if cur != nil {
		return nil, fmt.Errorf("parse dockerfile: line %d: continuation at end of file", cur.Line)
	}

	df := &dockerfile{GlobalArgs: map[string]string{}}
	for _, in := range instrs {
		for strings.HasPrefix(in.Args, "--") {
			flag, rest, _ := strings.Cut(in.Args, " ")
			in.Flags = append(in.Flags, flag)
			in.Args = strings.TrimSpace(rest)
		}
		switch {
		case in.Cmd == "FROM":
			f := strings.Fields(in.Args)
			st := stage{From: in, Image: expandVars(f[0], df.GlobalArgs)}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = f[2]
			} else if len(f) != 1 {
				return nil, fmt.Errorf("parse dockerfile: line %d: FROM %q", in.Line, in.Args)
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) == 0:
			if in.Cmd != "ARG" {
				return nil, fmt.Errorf("parse dockerfile: line %d: %s before the first FROM", in.Line, in.Cmd)
			}
			name, def, _ := strings.Cut(in.Args, "=")
			df.GlobalArgs[name] = def
		default:
			last := &df.Stages[len(df.Stages)-1]
			last.Instr = append(last.Instr, in)
		}
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("parse dockerfile: no FROM")
	}
	return df, nil
}

// args returns the ARG defaults declared in the stage (before index end, or all when end < 0).
func (s stage) args(end int) map[string]string {
	m := map[string]string{}
	for i, in := range s.Instr {
		if end >= 0 && i >= end {
			break
		}
		if in.Cmd == "ARG" {
			name, def, _ := strings.Cut(in.Args, "=")
			m[name] = def
		}
	}
	return m
}

// env returns the ENV settings of the stage, in the `ENV K=V K2=V2` form we use.
func (s stage) env(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, in := range s.Instr {
		if in.Cmd != "ENV" {
			continue
		}
		for _, kv := range strings.Fields(in.Args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("line %d: ENV %q: use the K=V form", in.Line, in.Args)
			}
			m[k] = v
		}
	}
	return m
}

// find returns the index of the first instruction at or after from matching cmd and
// whose Args satisfy match, or -1.
func (s stage) find(from int, cmd string, match func(args string) bool) int {
	for i := from; i < len(s.Instr); i++ {
		if s.Instr[i].Cmd == cmd && match(s.Instr[i].Args) {
			return i
		}
	}
	return -1
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandVars replaces ${NAME} and $NAME with values from vars (unknown names become "").
func expandVars(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := strings.Trim(ref, "${}")
		return vars[name]
	})
}

// shellWords splits a RUN command like /bin/sh would for the simple commands we use:
// whitespace separates words, single and double quotes group, backslash escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			esc = false
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' {
				esc = true
			} else {
				b.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			esc, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case strings.ContainsRune(";&|<>`()", r):
			return nil, fmt.Errorf("split %q: shell operator %q not supported", s, r)
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || esc {
		return nil, fmt.Errorf("split %q: unterminated quote or escape", s)
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}

// repoRoot is the module root (the parent of this package's directory).
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

// loadDockerfile parses docker/Dockerfile.
func loadDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// buildStage returns the stage that runs `go build` (there must be exactly one).
func buildStage(t *testing.T, df *dockerfile) stage {
	t.Helper()
	var found []stage
	for _, s := range df.Stages {
		if s.find(0, "RUN", isGoBuild) >= 0 {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one stage running go build, got %d", len(found))
	}
	return found[0]
}

func isGoBuild(args string) bool { return strings.Contains(args, "go build") }

// goModVersion returns the `go` directive of go.mod (e.g. "1.26.0").
func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// runtimeBinaries returns the /usr/local/bin/<name> paths the final stage copies in.
func runtimeBinaries(t *testing.T, df *dockerfile) []string {
	t.Helper()
	final := df.Stages[len(df.Stages)-1]
	var bins []string
	for _, in := range final.Instr {
		if in.Cmd != "COPY" {
			continue
		}
		f := strings.Fields(in.Args)
		dst := f[len(f)-1]
		for _, src := range f[:len(f)-1] {
			switch {
			case strings.HasSuffix(dst, "/"):
				bins = append(bins, dst+filepath.Base(src))
			default:
				bins = append(bins, dst)
			}
		}
	}
	return bins
}

func TestParseDockerfile(t *testing.T) {
	df, err := parseDockerfile("# syntax=docker/dockerfile:1\nARG V=1.2\nFROM img:${V} AS b\n" +
		"ENV A=1 B=2\nRUN --mount=type=cache,target=/c \\\n    # inner comment\n    go build \\\n  -o /out/ ./x\n" +
		"FROM scratch\nCOPY --from=b /out/x /bin/\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(df.Stages); got != 2 {
		t.Fatalf("stages = %d, want 2", got)
	}
	b := df.Stages[0]
	if b.Image != "img:1.2" || b.Name != "b" {
		t.Errorf("stage 0 = %q AS %q, want img:1.2 AS b", b.Image, b.Name)
	}
	run := b.Instr[b.find(0, "RUN", isGoBuild)]
	if want := "go build -o /out/ ./x"; run.Args != want || !slices.Equal(run.Flags, []string{"--mount=type=cache,target=/c"}) {
		t.Errorf("RUN = %q %q, want %q with the mount flag", run.Flags, run.Args, want)
	}
	if env := b.env(t); env["A"] != "1" || env["B"] != "2" {
		t.Errorf("env = %v", env)
	}
	cp := df.Stages[1].Instr[0]
	if cp.Cmd != "COPY" || !slices.Equal(cp.Flags, []string{"--from=b"}) || cp.Args != "/out/x /bin/" {
		t.Errorf("COPY = %+v", cp)
	}

	for _, bad := range []string{"", "RUN x\n", "FROM a\nRUN b \\\n"} {
		if _, err := parseDockerfile(bad); err == nil {
			t.Errorf("parseDockerfile(%q): want an error", bad)
		}
	}
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`go build -o /out/ ./a`, []string{"go", "build", "-o", "/out/", "./a"}},
		{`go build -ldflags "-s -w -X main.version=${V}" ./a`, []string{"go", "build", "-ldflags", "-s -w -X main.version=${V}", "./a"}},
		{`a 'b c' d\ e ""`, []string{"a", "b c", "d e", ""}},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`a "b`, `a && b`, `a; b`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q): want an error", bad)
		}
	}
}

// TestDockerfileLayout checks the properties the issue asks of the image: multi-stage,
// a Go builder matching go.mod, modules copied and downloaded before the sources,
// static trimmed stamped build, and a distroless non-root runtime with exec-form
// entrypoint (there is no shell in it).
func TestDockerfileLayout(t *testing.T) {
	df := loadDockerfile(t)
	if len(df.Stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(df.Stages))
	}

	b := buildStage(t, df)
	if b.Name == "" {
		t.Errorf("build stage (line %d) has no name for COPY --from", b.From.Line)
	}
	goVer := goModVersion(t) // e.g. 1.26.0
	majorMinor := strings.Join(strings.SplitN(goVer, ".", 3)[:2], ".")
	if want := "golang:" + majorMinor; b.Image != want && !strings.HasPrefix(b.Image, want+".") && !strings.HasPrefix(b.Image, want+"-") {
		t.Errorf("builder image = %q, want %s (go.mod says go %s)", b.Image, want, goVer)
	}
	if env := b.env(t); env["CGO_ENABLED"] != "0" {
		t.Errorf("build stage ENV CGO_ENABLED = %q, want 0", env["CGO_ENABLED"])
	}

	// Cache-friendly order: COPY go.mod go.sum → RUN go mod download → COPY sources → RUN go build.
	copyMod := b.find(0, "COPY", func(a string) bool {
		f := strings.Fields(a)
		return slices.Contains(f, "go.mod") && slices.Contains(f, "go.sum")
	})
	download := b.find(max(copyMod, 0), "RUN", func(a string) bool { return strings.Contains(a, "go mod download") })
	copySrc := b.find(max(download, 0), "COPY", func(a string) bool { return !strings.Contains(a, "go.mod") })
	build := b.find(max(copySrc, 0), "RUN", isGoBuild)
	if copyMod < 0 || download < 0 || copySrc < 0 || build < 0 {
		t.Errorf("build stage order: COPY go.mod go.sum (%d), RUN go mod download (%d), COPY sources (%d), RUN go build (%d): want all present, in this order",
			copyMod, download, copySrc, build)
	}
	if i := b.find(0, "COPY", func(string) bool { return true }); i != copyMod {
		t.Errorf("the first COPY of the build stage (line %d) must be go.mod and go.sum only", b.Instr[i].Line)
	}

	for _, i := range buildRuns(b) {
		run := b.Instr[i]
		for _, want := range []string{"-trimpath", "-s -w", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}"} {
			if !strings.Contains(run.Args, want) {
				t.Errorf("line %d: go build lacks %q", run.Line, want)
			}
		}
		args := b.args(i)
		for _, name := range []string{"VERSION", "COMMIT"} {
			if _, ok := args[name]; !ok {
				t.Errorf("line %d: ARG %s not declared before the go build", run.Line, name)
			}
		}
	}

	final := df.Stages[len(df.Stages)-1]
	if !strings.HasPrefix(final.Image, "gcr.io/distroless/static") {
		t.Errorf("runtime image = %q, want gcr.io/distroless/static*", final.Image)
	}
	user := ""
	for _, in := range final.Instr {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "RUN":
			t.Errorf("line %d: RUN in the runtime stage (distroless has no shell)", in.Line)
		case "ENTRYPOINT", "CMD":
			var argv []string
			if err := json.Unmarshal([]byte(in.Args), &argv); err != nil {
				t.Errorf("line %d: %s must be exec form (JSON array): %v", in.Line, in.Cmd, err)
			}
		case "COPY":
			for _, f := range in.Flags {
				if from, ok := strings.CutPrefix(f, "--from="); ok && !slices.ContainsFunc(df.Stages[:len(df.Stages)-1], func(s stage) bool { return s.Name == from }) {
					t.Errorf("line %d: COPY --from=%s: no such earlier stage", in.Line, from)
				}
			}
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "root" || uid == "0" {
		t.Errorf("runtime stage USER = %q, want a non-root user", user)
	}
	bins := runtimeBinaries(t, df)
	for _, want := range []string{"/usr/local/bin/targets", "/usr/local/bin/loadgen", "/usr/local/bin/lab"} {
		if !slices.Contains(bins, want) {
			t.Errorf("runtime stage does not install %s (has %q)", want, bins)
		}
	}
}

// buildRuns returns the indexes of the stage's RUN instructions that run go build.
func buildRuns(s stage) []int {
	var idx []int
	for i := s.find(0, "RUN", isGoBuild); i >= 0; i = s.find(i+1, "RUN", isGoBuild) {
		idx = append(idx, i)
	}
	return idx
}

// testVersion and testCommit stand in for the VERSION and COMMIT build args.
const (
	testVersion = "v0.0.0-dockertest"
	testCommit  = "abc1234"
)

// dockerfileBuild runs the build stage's `go build` lines outside Docker, with the stage's
// ENV, VERSION=testVersion and COMMIT=testCommit, writing into out instead of /out/, and
// returns the packages built. Offline: GOPROXY=off (go test has already fetched every
// module the packages need; .ci/run runs go mod download first).
func dockerfileBuild(t *testing.T, out string) []string {
	t.Helper()
	root := repoRoot(t)
	b := buildStage(t, loadDockerfile(t))
	env := b.env(t)

	var built []string
	for _, i := range buildRuns(b) {
		run := b.Instr[i]
		vars := b.args(i)
		vars["VERSION"] = testVersion
		vars["COMMIT"] = testCommit
		words, err := shellWords(run.Args)
		if err != nil {
			t.Fatalf("line %d: %v", run.Line, err)
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "build" {
			t.Fatalf("line %d: want a plain `go build ...` command, got %q", run.Line, run.Args)
		}
		var pkgs []string
		for j := 2; j < len(words); j++ {
			words[j] = expandVars(words[j], vars)
			switch {
			case words[j] == "-o" && j+1 < len(words):
				if !strings.HasSuffix(words[j+1], "/") {
					t.Fatalf("line %d: -o %s: want a directory ending in /", run.Line, words[j+1])
				}
				words[j+1] = out + string(filepath.Separator)
				j++
			case strings.HasPrefix(words[j], "./"):
				pkgs = append(pkgs, words[j])
			}
		}
		if len(pkgs) == 0 {
			t.Fatalf("line %d: no ./package arguments", run.Line)
		}
		for _, p := range pkgs {
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Fatalf("line %d: package %s: %v", run.Line, p, err)
			}
		}

		ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute) // generous: the machine may be busy
		cmd := exec.CommandContext(ctx, words[0], words[1:]...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOPROXY=off")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		start := time.Now()
		outb, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			hint := ""
			if strings.Contains(string(outb), "GOPROXY=off") {
				hint = "\n(this test builds offline: run `go mod download` first, as .ci/run does)"
			}
			t.Fatalf("line %d: %s: %v\n%s%s", run.Line, strings.Join(words, " "), err, outb, hint)
		}
		t.Logf("line %d: %s (%s)", run.Line, strings.Join(words, " "), time.Since(start).Round(time.Millisecond))
		built = append(built, pkgs...)
	}
	return built
}

// TestDockerfileGoBuild runs the Dockerfile's `go build` commands outside Docker and
// checks the binaries: one per package, static (CGO off), trimmed, version stamped.
func TestDockerfileGoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs; skipped with -short")
	}
	root := repoRoot(t)
	out := t.TempDir()
	for _, p := range dockerfileBuild(t, out) {
		bin := filepath.Join(out, filepath.Base(p))
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Errorf("%s: %v", bin, err)
			continue
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux"} {
			if settings[k] != want {
				t.Errorf("%s: build setting %s = %q, want %q", filepath.Base(bin), k, settings[k], want)
			}
		}
		// -trimpath keeps -ldflags out of the build info, so look for the stamp itself,
		// in the programs that declare main.version (the linker ignores -X otherwise).
		if !declaresVersion(t, filepath.Join(root, p)) {
			t.Logf("%s: no package-level main.version; -X main.version is ignored", p)
			continue
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(testVersion)) {
			t.Errorf("%s: version %q not stamped into the binary", filepath.Base(bin), testVersion)
		}
	}
}

// declaresVersion reports whether the main package in dir declares a package-level
// string variable named version (the target of -X main.version=...).
func declaresVersion(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if id.Name == "version" {
						return true
					}
				}
			}
		}
	}
	return false
}
