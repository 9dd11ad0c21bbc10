package imagebuild

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const throwawayMain = `package main

import "fmt"

func main() {
	fmt.Println("hello from a throwaway hub")
}
`

// throwaway writes a tiny module with one main package into a fresh temp dir.
func throwaway(t *testing.T, main string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/throwaway\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "cmd", "hub", "main.go"), main)
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, dir, pkg string) *Result {
	t.Helper()
	res, err := Build(context.Background(), Config{ModuleDir: dir, Package: pkg})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDigestReproducibleThrowaway(t *testing.T) {
	t.Parallel()
	// Two copies in different directories: -trimpath must hide the path.
	a := build(t, throwaway(t, throwawayMain), "./cmd/hub")
	b := build(t, throwaway(t, throwawayMain), "./cmd/hub")
	if a.Digest != b.Digest {
		t.Fatalf("same source, different digests: %s vs %s", a.Digest, b.Digest)
	}
	changed := strings.Replace(throwawayMain, `fmt.Println("hello from a throwaway hub")`,
		"fmt.Println(\"hello from a throwaway hub\")\n\tfmt.Println(\"one more line\")", 1)
	c := build(t, throwaway(t, changed), "./cmd/hub")
	if c.Digest == a.Digest {
		t.Fatalf("one-line change kept digest %s", a.Digest)
	}
}

func TestDigestIgnoresCallerEnvironment(t *testing.T) {
	// Not parallel: sets process environment.
	dir := throwaway(t, throwawayMain)
	a := build(t, dir, "./cmd/hub")
	t.Setenv("GOFLAGS", "-race")
	t.Setenv("CGO_ENABLED", "1")
	t.Setenv("GOAMD64", "v3")
	b := build(t, dir, "./cmd/hub")
	if a.Digest != b.Digest {
		t.Fatalf("caller environment leaked into the digest: %s vs %s", a.Digest, b.Digest)
	}
}

func TestImageShape(t *testing.T) {
	t.Parallel()
	res := build(t, throwaway(t, throwawayMain), "./cmd/hub")
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "/hub" {
		t.Errorf("entrypoint = %v, want [/hub]", got)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user = %q, want non-root 65532:65532", cf.Config.User)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s", cf.OS, cf.Architecture)
	}
	if _, ok := cf.Config.ExposedPorts["3000/tcp"]; !ok {
		t.Errorf("3000/tcp not exposed: %v", cf.Config.ExposedPorts)
	}
	if !cf.Created.IsZero() && cf.Created.Unix() != 0 {
		t.Errorf("created = %v, want the epoch", cf.Created)
	}
	m, err := res.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || len(m.Layers) != 1 {
		t.Errorf("manifest %s with %d layers, want OCI with 1", m.MediaType, len(m.Layers))
	}
}

// TestDigestReproducibleRealHub builds the real service/cmd/hub from two
// copies of the module, then from a copy with one added line in the hub's main.
func TestDigestReproducibleRealHub(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	probe := exec.Command("go", "list", "./service/cmd/hub")
	probe.Dir = root
	if out, err := probe.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("service/cmd/hub does not load yet: %s", out)
		}
		t.Fatalf("service/cmd/hub does not load: %s", out)
	}
	// Snapshot once (other work may be editing the checkout), then build two
	// copies of the snapshot in different directories.
	snap := copyModule(t, root)
	a := build(t, copyModule(t, snap), "./service/cmd/hub")
	b := build(t, copyModule(t, snap), "./service/cmd/hub")
	if a.Digest != b.Digest {
		t.Fatalf("same hub source, different digests: %s vs %s", a.Digest, b.Digest)
	}
	edited := copyModule(t, snap)
	mainGo := filepath.Join(edited, "service", "cmd", "hub", "main.go")
	src, err := os.ReadFile(mainGo)
	if err != nil {
		t.Fatal(err)
	}
	write(t, mainGo, string(src)+"\nvar hubkitDigestProbe = \"one-line change\"\n\nvar _ = hubkitDigestProbe\n")
	c := build(t, edited, "./service/cmd/hub")
	if c.Digest == a.Digest {
		t.Fatalf("one-line change to the hub kept digest %s", a.Digest)
	}
}

// copyModule copies go.mod, go.sum and service/ (the hub's whole import graph
// inside the module) into a temp dir.
func copyModule(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, f), string(b))
	}
	if err := os.CopyFS(filepath.Join(dst, "service"), os.DirFS(filepath.Join(root, "service"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestPushToRegistry(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/hubkit"
	res := build(t, throwaway(t, throwawayMain), "./cmd/hub")
	ref, err := Push(context.Background(), res.Image, repo, authn.NewMultiKeychain())
	if err != nil {
		t.Fatal(err)
	}
	if want := repo + "@" + res.Digest.String(); ref != want {
		t.Fatalf("ref = %s, want %s", ref, want)
	}
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != res.Digest {
		t.Fatalf("registry has %s, pushed %s", desc.Digest, res.Digest)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no module dir", Config{}},
		{"bad platform", Config{ModuleDir: ".", Platform: "linux"}},
		{"binary with slash", Config{ModuleDir: ".", Binary: "bin/hub"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(context.Background(), tt.cfg)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestBuildErrorNamesPackage(t *testing.T) {
	t.Parallel()
	dir := throwaway(t, "package main\n\nfunc main() { undefined() }\n")
	_, err := Build(context.Background(), Config{ModuleDir: dir, Package: "./cmd/hub"})
	if err == nil || !strings.Contains(err.Error(), "./cmd/hub") || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("err = %v, want the compiler error naming the package", err)
	}
}
