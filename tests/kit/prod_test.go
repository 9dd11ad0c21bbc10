package kit

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/hubkit/hubkit/infra/components"
	"github.com/hubkit/hubkit/infra/kit"
	"github.com/hubkit/hubkit/internal/testenv"
)

// TestProdStackSecrets runs the prod stack file through the real engine:
// it refuses to preview until its secrets are set, naming each; once they
// are set (as Pulumi secrets) they never appear in plain text in preview
// output, up output, stack outputs or the exported state.
func TestProdStackSecrets(t *testing.T) {
	t.Parallel()
	cliRoot, toolPath := pulumiTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root := testenv.RepoRoot(t)
	stack, dirs := newStack(ctx, t, cliRoot, toolPath, "prod", kit.Program)

	cfg := stackConfig(t, root, "prod")
	cfg["hubkit:host"] = auto.ConfigValue{Value: "rt.example.com"}
	// A prebuilt image: this test is about config and secrets, not the build.
	image := "ghcr.io/acme/hubkit@sha256:" + strings.Repeat("c", 64)
	cfg["hubkit:image"] = auto.ConfigValue{Value: image}
	cfg["hubkit:ingressController"] = auto.ConfigValue{Value: "traefik"}
	if err := stack.SetAllConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	_, err := stack.Preview(ctx, optpreview.ProgressStreams(&out))
	if err == nil {
		t.Fatal("prod preview ran without its secrets")
	}
	for _, key := range []string{"redisPassword", "apiKey", "jwtSecret"} {
		if !strings.Contains(out.String()+err.Error(), "hubkit:"+key+": missing secret") {
			t.Errorf("refusal does not name %s:\n%s", key, out.String())
		}
	}

	secrets := map[string]string{
		"hubkit:redisPassword": "redis-Pw-8c1e4f0a9b",
		"hubkit:apiKey":        "api-Key-77d2e1c3b5",
		"hubkit:jwtSecret":     "jwt-Secret-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
	}
	for k, v := range secrets {
		if err := stack.SetConfig(ctx, k, auto.ConfigValue{Value: v, Secret: true}); err != nil {
			t.Fatal(err)
		}
	}
	leak := func(where, text string) {
		t.Helper()
		for k, v := range secrets {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if i := strings.Index(text, form); i >= 0 {
					t.Errorf("%s shows %s in plain text: …%s…", where, k, text[max(0, i-200):min(len(text), i+len(form)+40)])
				}
			}
		}
	}

	out.Reset()
	if _, err := stack.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(&out)); err != nil {
		t.Fatalf("prod preview: %v\n%s", err, out.String())
	}
	leak("preview --diff", out.String())
	if !strings.Contains(out.String(), "[secret]") {
		t.Errorf("preview shows no [secret] placeholders:\n%s", out.String())
	}

	out.Reset()
	up, err := stack.Up(ctx, optup.Diff(), optup.ProgressStreams(&out))
	if err != nil {
		t.Fatalf("prod up: %v\n%s", err, out.String())
	}
	leak("up --diff", out.String())
	for name, o := range up.Outputs {
		if s, ok := o.Value.(string); ok {
			leak("output "+name, s)
		}
	}
	if up.Outputs["image"].Value != image || up.Outputs["url"].Value != "https://rt.example.com" {
		t.Errorf("outputs: %v", up.Outputs)
	}
	// The state as the engine stored it (stack.Export would decrypt: it
	// runs `stack export --show-secrets`).
	var stored []byte
	err = filepath.WalkDir(dirs.Backend, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		stored = append(stored, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	leak("stored state", string(stored))
	if !strings.Contains(string(stored), "ciphertext") {
		t.Error("stored state holds no encrypted values")
	}

	m := loadManifests(t, dirs.Render)
	var hubSvc bool
	for _, s := range m.Services {
		if s.Name == components.HubName {
			hubSvc = s.Annotations["traefik.ingress.kubernetes.io/service.sticky.cookie"] == "true"
		}
	}
	if !hubSvc {
		t.Error("traefik sticky cookie not on the hub Service")
	}
	ing := m.Ingresses[0]
	if ing.Annotations["traefik.ingress.kubernetes.io/router.entrypoints"] != "websecure" ||
		ing.Annotations["cert-manager.io/cluster-issuer"] != "letsencrypt-prod" || *ing.Spec.IngressClassName != "traefik" {
		t.Errorf("prod ingress annotations %v", ing.Annotations)
	}
	if len(m.Issuers) != 0 {
		t.Error("prod created a self-signed issuer")
	}
	d := m.Deployments[0]
	if d.Spec.Template.Spec.Containers[0].Image != image {
		t.Errorf("deployment image %s", d.Spec.Template.Spec.Containers[0].Image)
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Value != "" {
			leak("deployment env "+e.Name, e.Value)
		}
	}
}
