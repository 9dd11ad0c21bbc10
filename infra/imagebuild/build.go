package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("imagebuild: invalid config")

// Config describes one image build. Zero values take the documented defaults.
type Config struct {
	// ModuleDir is the directory holding the go.mod of the module to build.
	// Required.
	ModuleDir string
	// Package is the main package to build, relative to ModuleDir.
	// Default "./service/cmd/hub".
	Package string
	// Platform is "os/arch" or "os/arch/variant". Default "linux/amd64".
	Platform string
	// Binary is the name of the executable at the image root, which is also the
	// entrypoint. Default "hub".
	Binary string
	// User is the image's default "uid:gid". Default "65532:65532" (non-root).
	User string
	// Ports are the exposed TCP ports. Default [3000].
	Ports []int
	// GoBin is the go command. Default "go" from PATH.
	GoBin string
	// Logger receives build progress. Nil discards.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.ModuleDir == "" {
		return fmt.Errorf("%w: ModuleDir is required", ErrConfig)
	}
	if c.Package == "" {
		c.Package = "./service/cmd/hub"
	}
	if c.Platform == "" {
		c.Platform = "linux/amd64"
	}
	if c.Binary == "" {
		c.Binary = "hub"
	}
	if strings.ContainsAny(c.Binary, "/\\") {
		return fmt.Errorf("%w: Binary %q must be a plain file name", ErrConfig, c.Binary)
	}
	if c.User == "" {
		c.User = "65532:65532"
	}
	if len(c.Ports) == 0 {
		c.Ports = []int{3000}
	}
	if c.GoBin == "" {
		c.GoBin = "go"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := ParsePlatform(c.Platform); err != nil {
		return err
	}
	return nil
}

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("%w: platform %q is not os/arch[/variant]", ErrConfig, s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// Result is a built image.
type Result struct {
	Image  v1.Image
	Digest v1.Hash
}

// epoch is the timestamp of every file and of the image itself.
var epoch = time.Unix(0, 0).UTC()

// Build compiles cfg.Package and assembles the image in memory.
func Build(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	platform, _ := ParsePlatform(cfg.Platform)
	bin, err := compile(ctx, cfg, platform)
	if err != nil {
		return nil, err
	}
	img, err := assemble(cfg, platform, bin)
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("imagebuild: digest: %w", err)
	}
	cfg.Logger.Info("image built", "package", cfg.Package, "platform", cfg.Platform, "digest", d.String())
	return &Result{Image: img, Digest: d}, nil
}

// compile runs `go build` in a scrubbed environment and returns the binary.
func compile(ctx context.Context, cfg Config, p v1.Platform) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "hubkit-imagebuild-")
	if err != nil {
		return nil, fmt.Errorf("imagebuild: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	out := filepath.Join(tmp, cfg.Binary)
	cmd := exec.CommandContext(ctx, cfg.GoBin, "build",
		"-o", out, "-trimpath", "-buildvcs=false", "-mod=readonly",
		"-ldflags=-s -w -buildid=", cfg.Package)
	cmd.Dir = cfg.ModuleDir
	cmd.Env = buildEnv(os.Environ(), p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	cfg.Logger.Debug("go build", "dir", cfg.ModuleDir, "package", cfg.Package, "platform", p.String())
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("imagebuild: go build %s: %w\n%s", cfg.Package, err, strings.TrimSpace(stderr.String()))
	}
	return os.ReadFile(out)
}

// scrubbed are the environment variables that change what `go build` emits
// and so must not leak in from the caller's shell.
var scrubbed = []string{
	"GOFLAGS", "GOEXPERIMENT", "CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOARM64",
	"GOAMD64", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM",
	"GOFIPS140", "GODEBUG", "GOWORK", "CC", "CGO_CFLAGS", "CGO_LDFLAGS",
}

func buildEnv(environ []string, p v1.Platform) []string {
	env := make([]string, 0, len(environ)+4)
outer:
	for _, kv := range environ {
		for _, k := range scrubbed {
			if strings.HasPrefix(kv, k+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	env = append(env, "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture, "GOWORK=off")
	switch {
	case p.Architecture == "arm" && p.Variant != "":
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	case p.Architecture == "amd64":
		env = append(env, "GOAMD64=v1")
	}
	return env
}

// assemble wraps the binary into a single-layer OCI image.
func assemble(cfg Config, p v1.Platform, bin []byte) (v1.Image, error) {
	layerTar, err := tarLayer(cfg.Binary, bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("imagebuild: layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "hubkit imagebuild: go build " + cfg.Package,
			Comment:   "static, -trimpath",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("imagebuild: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("imagebuild: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Entrypoint = []string{"/" + cfg.Binary}
	cf.Config.User = cfg.User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/"}
	cf.Config.ExposedPorts = map[string]struct{}{}
	for _, port := range cfg.Ports {
		cf.Config.ExposedPorts[fmt.Sprintf("%d/tcp", port)] = struct{}{}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: set config: %w", err)
	}
	return img, nil
}

// tarLayer returns an uncompressed tar holding the binary at the root, owned
// by root, read+execute for all, with a fixed timestamp.
func tarLayer(name string, bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o555,
		Size:     int64(len(bin)),
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("imagebuild: tar: %w", err)
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, fmt.Errorf("imagebuild: tar: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("imagebuild: tar: %w", err)
	}
	return buf.Bytes(), nil
}
