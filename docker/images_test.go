package docker_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The engine has no registry, so the tests make the images the Dockerfile and the
// compose file take as arguments. Each is tagged by a hash of what it is made from, kept
// in the engine and reused by later runs (`docker rmi` them to start over); a clean
// engine gets them built once.

// testImages are the substitutes for the public images.
type testImages struct {
	Go      string // GO_IMAGE: Debian with the host's Go toolchain
	Runtime string // RUNTIME_IMAGE: passwd, group, CA certificates, /tmp; no shell
	Redis   string // PREDICTLAB_REDIS_IMAGE: Debian with Debian's redis-server
}

// debianMirror is the mirror debootstrap reads (the one apt uses here unless
// PREDICTLAB_DEBIAN_MIRROR says otherwise).
func debianMirror() string {
	if m := os.Getenv("PREDICTLAB_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// buildTestImages returns the three images, building those the engine lacks.
func buildTestImages(t *testing.T) testImages {
	t.Helper()
	debian := debianImage(t)
	return testImages{Go: goImage(t, debian), Runtime: runtimeImage(t), Redis: debian}
}

// imageExists reports whether the engine holds ref.
func imageExists(ref string) bool {
	return exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", ref).Run() == nil
}

// shortHash is the first 12 hex digits of the SHA-256 of the parts.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// debianImage is a minimal Debian bookworm (debootstrap --variant=minbase) with
// redis-server, imported as one layer. It serves as the Redis image and as the base of
// the Go image. Debootstrap needs root and takes a few minutes; it runs once per engine.
func debianImage(t *testing.T) string {
	t.Helper()
	const suite, variant, include = "bookworm", "minbase", "redis-server"
	ref := "predictlab-test/debian:" + suite + "-" + shortHash(suite, variant, include, debianMirror())
	if imageExists(ref) {
		return ref
	}
	if os.Geteuid() != 0 {
		t.Fatalf("image %s is missing and debootstrap needs root; run once as root", ref)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Fatalf("image %s is missing and debootstrap is not installed (apt-get install debootstrap)", ref)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	start := time.Now()
	run(t, 20*time.Minute, "", nil, "debootstrap", "--variant="+variant, "--include="+include, suite, root, debianMirror())
	// Package caches are of no use in the image.
	for _, glob := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"} {
		matches, _ := filepath.Glob(filepath.Join(root, glob))
		for _, m := range matches {
			_ = os.RemoveAll(m)
		}
	}
	tarCmd := exec.Command("tar", "-C", root, "-c", ".")
	importCmd := exec.Command("docker", "import",
		"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", `CMD ["bash"]`, "-", ref)
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	importCmd.Stdin = pipe
	var importOut bytes.Buffer
	importCmd.Stdout, importCmd.Stderr = &importOut, &importOut
	if err := tarCmd.Start(); err != nil {
		t.Fatalf("tar rootfs: %v", err)
	}
	if err := importCmd.Run(); err != nil {
		_ = tarCmd.Wait()
		t.Fatalf("docker import %s: %v\n%s", ref, err, importOut.String())
	}
	if err := tarCmd.Wait(); err != nil {
		t.Fatalf("tar rootfs: %v", err)
	}
	t.Logf("built %s (debootstrap and import) in %s", ref, time.Since(start).Round(time.Second))
	return ref
}

// goImage is debian with the host's Go toolchain (GOROOT, as `go env GOROOT` names it)
// in /usr/local/go, and the standard library compiled as docker/Dockerfile compiles it
// (CGO_ENABLED=0, -trimpath), so a build spends its time on predictlab and its modules.
func goImage(t *testing.T, debian string) string {
	t.Helper()
	goroot := strings.TrimSpace(run(t, time.Minute, "", nil, "go", "env", "GOROOT"))
	version := strings.TrimSpace(run(t, time.Minute, "", nil, "go", "version"))
	dockerfile := "FROM " + debian + `
COPY go /usr/local/go
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0
RUN go build -trimpath std && go version
`
	ref := "predictlab-test/go:" + shortHash(debian, version, goroot, dockerfile, runtime.GOARCH)
	if imageExists(ref) {
		return ref
	}
	start := time.Now()
	// The build context is a tar written here: the Dockerfile and GOROOT under go/,
	// without the parts a build does not read.
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeGoContext(pw, dockerfile, goroot))
	}()
	ctx, cancel := contextWithTimeout(t, 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "build", "-t", ref, "-")
	cmd.Stdin = pr
	out, err := cmd.CombinedOutput()
	pr.Close()
	if err != nil {
		t.Fatalf("docker build %s: %v\n%s", ref, err, out)
	}
	t.Logf("built %s (host Go, std compiled) in %s", ref, time.Since(start).Round(time.Second))
	return ref
}

// writeGoContext writes a build context tar: Dockerfile, and goroot as go/.
func writeGoContext(w io.Writer, dockerfile, goroot string) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, dockerfile); err != nil {
		return err
	}
	skip := map[string]bool{"test": true, "api": true, "doc": true, "misc": true, ".git": true}
	err := filepath.WalkDir(goroot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(goroot, path)
		if d.IsDir() && skip[rel] {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join("go", rel))
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("write go context: %w", err)
	}
	return tw.Close()
}

// runtimeImage is what a static Go binary needs at run time and no more: /etc/passwd and
// /etc/group naming root and nonroot (65532, as distroless), the host's CA bundle, a
// world-writable /tmp and nonroot's home. No shell, no libc. Built from a tar written
// here with fixed times, so its tag is a hash of its content.
func runtimeImage(t *testing.T) string {
	t.Helper()
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("CA certificates for the runtime image: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	dir := func(name string, mode int64, uid int) {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime})
	}
	file := func(name string, body []byte) {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: mtime})
		_, _ = tw.Write(body)
	}
	for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs", "home", "usr", "usr/local", "usr/local/bin"} {
		dir(d, 0o755, 0)
	}
	dir("tmp", 0o1777, 0)
	dir("home/nonroot", 0o700, 65532)
	file("etc/passwd", []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
	file("etc/group", []byte("root:x:0:\nnonroot:x:65532:\n"))
	file("etc/ssl/certs/ca-certificates.crt", certs)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ref := "predictlab-test/runtime:" + shortHash(buf.String())
	if imageExists(ref) {
		return ref
	}
	ctx, cancel := contextWithTimeout(t, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "import", "-", ref)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", ref, err, out)
	}
	t.Logf("built %s", ref)
	return ref
}
