package kit

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hubkit/hubkit/infra/components"
	"github.com/hubkit/hubkit/infra/imagebuild"
	"github.com/hubkit/hubkit/infra/internal/pulumimock"
)

const (
	tDeployment = "kubernetes:apps/v1:Deployment"
	tSecret     = "kubernetes:core/v1:Secret"
	tService    = "kubernetes:core/v1:Service"
	tIngress    = "kubernetes:networking.k8s.io/v1:Ingress"
	tStateful   = "kubernetes:apps/v1:StatefulSet"
	fakeDigest  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// fakeBuilder stands in for the image build so program tests stay fast; the
// real build is tested in infra/imagebuild.
type fakeBuilder struct {
	mu     sync.Mutex
	builds []imagebuild.Config
	pushes []string
}

var _ components.ImageBuilder = (*fakeBuilder)(nil)

func (f *fakeBuilder) Build(_ context.Context, cfg imagebuild.Config) (string, any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds = append(f.builds, cfg)
	return fakeDigest, "image", nil
}

func (f *fakeBuilder) Push(_ context.Context, _ any, repo string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes = append(f.pushes, repo)
	return repo + "@" + fakeDigest, nil
}

func run(t *testing.T, stack string, cfg map[string]string, secrets []string, dryRun bool) (*pulumimock.Recorder, *fakeBuilder, error) {
	t.Helper()
	rec, b := pulumimock.New(), &fakeBuilder{}
	err := rec.Run(New(Options{ModuleDir: "/nonexistent/hubkit", Builder: b}), stack, cfg, secrets, dryRun)
	return rec, b, err
}

func mustRun(t *testing.T, stack string, cfg map[string]string, secrets []string, dryRun bool) (*pulumimock.Recorder, *fakeBuilder) {
	t.Helper()
	rec, b, err := run(t, stack, cfg, secrets, dryRun)
	if err != nil {
		t.Fatal(err)
	}
	return rec, b
}

func deployment(t *testing.T, rec *pulumimock.Recorder) pulumimock.Resource {
	t.Helper()
	d, ok := rec.Get(tDeployment, components.HubName)
	if !ok {
		t.Fatal("no hub Deployment registered")
	}
	return d
}

func TestReplicasFromConfigAndDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"default", map[string]string{}, "3"},
		{"five", map[string]string{"replicas": "5"}, "5"},
		{"one", map[string]string{"replicas": "1"}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, _ := mustRun(t, "dev", tt.cfg, nil, true)
			if got := deployment(t, rec).Value("spec.replicas"); got != tt.want {
				t.Fatalf("spec.replicas = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestScalingChangesOnlyReplicas: 3 -> 5 changes exactly one input of one
// resource among everything the program registers.
func TestScalingChangesOnlyReplicas(t *testing.T) {
	t.Parallel()
	for _, stack := range []struct {
		name    string
		cfg     map[string]string
		secrets []string
	}{
		{"dev", map[string]string{}, nil},
		{"prod", prodValues(), prodSecrets},
	} {
		t.Run(stack.name, func(t *testing.T) {
			t.Parallel()
			three, five := copyMap(stack.cfg), copyMap(stack.cfg)
			three["replicas"], five["replicas"] = "3", "5"
			a, _ := mustRun(t, stack.name, three, stack.secrets, true)
			b, _ := mustRun(t, stack.name, five, stack.secrets, true)
			if len(a.Resources()) < 10 {
				t.Fatalf("only %d resources registered", len(a.Resources()))
			}
			diff := pulumimock.Diff(a, b)
			want := tDeployment + "::" + components.HubName + " spec.replicas: 3 -> 5"
			if len(diff) != 1 || diff[0] != want {
				t.Fatalf("diff = %q, want exactly [%q]", diff, want)
			}
		})
	}
}

func TestSameConfigSameInputs(t *testing.T) {
	t.Parallel()
	a, _ := mustRun(t, "prod", prodValues(), prodSecrets, true)
	b, _ := mustRun(t, "prod", prodValues(), prodSecrets, false)
	if d := pulumimock.Diff(a, b); len(d) != 0 {
		t.Fatalf("preview and update register different inputs: %q", d)
	}
}

func TestImagePushedOnlyOnUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dryRun     bool
		wantPushes int
	}{{"preview", true, 0}, {"up", false, 1}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, b := mustRun(t, "dev", map[string]string{}, nil, tt.dryRun)
			if len(b.builds) != 1 || len(b.pushes) != tt.wantPushes {
				t.Fatalf("builds=%d pushes=%d, want 1 and %d", len(b.builds), len(b.pushes), tt.wantPushes)
			}
			if b.builds[0].Package != "./service/cmd/hub" || b.builds[0].Platform != "linux/amd64" {
				t.Fatalf("build config %+v", b.builds[0])
			}
			want := "localhost:5000/hubkit@" + fakeDigest
			if got := deployment(t, rec).Value("spec.template.spec.containers[0].image"); got != want {
				t.Fatalf("image = %s, want %s", got, want)
			}
		})
	}
}

func TestPinnedImageSkipsBuild(t *testing.T) {
	t.Parallel()
	pinned := "ghcr.io/acme/hubkit@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cfg := prodValues()
	cfg["image"] = pinned
	rec, b := mustRun(t, "prod", cfg, prodSecrets, false)
	if len(b.builds)+len(b.pushes) != 0 {
		t.Fatalf("pinned image still built/pushed: %v %v", b.builds, b.pushes)
	}
	if got := deployment(t, rec).Value("spec.template.spec.containers[0].image"); got != pinned {
		t.Fatalf("image = %s", got)
	}
}

// TestSecretsStaySecret: every secret value appears in the registered inputs
// only under a secret marker, never as plain text anywhere.
func TestSecretsStaySecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     map[string]string
		secrets []string
		values  []string
	}{
		{"in-cluster redis", prodValues(), prodSecrets, []string{"s3cret-redis", "s3cret-api", "s3cret-jwt-0123456789abcdef0123456789"}},
		{"external redis", func() map[string]string {
			m := prodValues()
			delete(m, "redisPassword")
			m["redisUrl"] = "rediss://default:ext3rnal-pw@cache.example.com:6380"
			return m
		}(), prodSecrets, []string{"ext3rnal-pw", "s3cret-api", "s3cret-jwt-0123456789abcdef0123456789"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, _ := mustRun(t, "prod", tc.cfg, tc.secrets, false)
			seen := map[string]bool{}
			for _, r := range rec.Resources() {
				for path, leaf := range pulumimock.Flatten(r.Inputs) {
					for _, s := range tc.values {
						if !strings.Contains(leaf.Value, s) {
							continue
						}
						seen[s] = true
						if !leaf.Secret {
							t.Errorf("%s %s holds %q in plain text", r.Key(), path, s)
						}
					}
				}
			}
			for _, s := range tc.values {
				if !seen[s] {
					t.Errorf("secret %q never reached a resource", s)
				}
			}
			// The hub reads them through secretKeyRef, never inline values.
			env := deployment(t, rec).Prefixed("spec.template.spec.containers[0].env")
			for path, leaf := range env {
				for _, s := range tc.values {
					if strings.Contains(leaf.Value, s) {
						t.Errorf("Deployment %s inlines a secret", path)
					}
				}
			}
		})
	}
}

func TestProductionRefusesWithoutSecrets(t *testing.T) {
	t.Parallel()
	cfg := map[string]string{"environment": "production", "host": "rt.example.com", "imageRepository": "ghcr.io/acme/hubkit", "tlsIssuer": "le"}
	rec, b, err := run(t, "prod", cfg, nil, true)
	if err == nil {
		t.Fatal("production program ran without its secrets")
	}
	for _, key := range []string{"redisPassword", "apiKey", "jwtSecret"} {
		if !strings.Contains(err.Error(), "hubkit:"+key+": missing secret") {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	if n := len(rec.Resources()); n != 0 || len(b.builds) != 0 {
		t.Fatalf("%d resources registered and %d builds before refusing", n, len(b.builds))
	}
}

func TestHubEnvFromConfig(t *testing.T) {
	t.Parallel()
	cfg := prodValues()
	cfg["redisMode"] = "sharded"
	cfg["recoveryWindow"] = "0"
	cfg["drainWindow"] = "30s"
	cfg["clientRate"] = "2.5"
	cfg["clientBurst"] = "10"
	rec, _ := mustRun(t, "prod", cfg, prodSecrets, true)
	env := envOf(deployment(t, rec))
	want := map[string]string{
		"HUB_ADDR": ":3000", "HUB_ENV": "production", "HUB_REDIS_MODE": "sharded",
		"HUB_RECOVERY_WINDOW": "0", "HUB_DRAIN_WINDOW": "30s", "HUB_PING_INTERVAL": "25s",
		"HUB_PING_TIMEOUT": "20s", "HUB_MAX_PAYLOAD": "1000000", "HUB_WRITE_QUEUE": "1024",
		"HUB_LOG_LEVEL": "info", "HUB_ALLOWED_ORIGINS": "https://rt.example.com",
		"HUB_CLIENT_RATE": "2.5", "HUB_CLIENT_BURST": "10",
		"GOMEMLIMIT": "241591860", // 90 % of the default 256Mi limit
		"REDIS_URL":  "secret:hubkit-hub/redis-url", "HUB_REPLICA_ID": "field:metadata.name", "HUB_API_KEY": "secret:hubkit-hub/api-key",
		"HUB_JWT_SECRET": "secret:hubkit-hub/jwt-secret",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HUB_JWT_PUBLIC_KEY"]; ok {
		t.Error("HUB_JWT_PUBLIC_KEY set without jwtPublicKey")
	}
}

func TestHubEnvNoClientRateByDefault(t *testing.T) {
	t.Parallel()
	rec, _ := mustRun(t, "prod", prodValues(), prodSecrets, true)
	env := envOf(deployment(t, rec))
	for _, k := range []string{"HUB_CLIENT_RATE", "HUB_CLIENT_BURST"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s = %q without clientRate", k, v)
		}
	}
}

func TestExternalRedisSkipsStatefulSet(t *testing.T) {
	t.Parallel()
	cfg := prodValues()
	delete(cfg, "redisPassword")
	cfg["redisUrl"] = "rediss://default:pw@cache.example.com:6380"
	rec, _ := mustRun(t, "prod", cfg, prodSecrets, true)
	if n := len(rec.OfType(tStateful)); n != 0 {
		t.Fatalf("%d StatefulSets with an external Redis", n)
	}
	if envOf(deployment(t, rec))["REDIS_URL"] != "secret:hubkit-hub/redis-url" {
		t.Fatal("REDIS_URL not wired from the Secret")
	}
}

func TestEveryResourceParentedAndNamed(t *testing.T) {
	t.Parallel()
	rec, _ := mustRun(t, "prod", prodValues(), prodSecrets, true)
	for _, r := range rec.Resources() {
		if !r.Custom {
			continue
		}
		if strings.HasPrefix(r.Type, "kubernetes:") {
			if n := r.Value("metadata.name"); n == "" {
				t.Errorf("%s has no explicit metadata.name", r.Key())
			}
		}
		if r.Type == "kubernetes:core/v1:Namespace" {
			continue
		}
		if !strings.Contains(r.Parent, "hubkit:index:") {
			t.Errorf("%s is not parented to a component (parent %q)", r.Key(), r.Parent)
		}
	}
}

func envOf(r pulumimock.Resource) map[string]string {
	leaves := r.Prefixed("spec.template.spec.containers[0].env[")
	out := map[string]string{}
	for i := 0; ; i++ {
		p := "spec.template.spec.containers[0].env[" + strconv.Itoa(i) + "]"
		name, ok := leaves[p+".name"]
		if !ok {
			return out
		}
		if v, ok := leaves[p+".value"]; ok {
			out[name.Value] = v.Value
		} else if f, ok := leaves[p+".valueFrom.fieldRef.fieldPath"]; ok {
			out[name.Value] = "field:" + f.Value
		} else {
			out[name.Value] = "secret:" + leaves[p+".valueFrom.secretKeyRef.name"].Value + "/" + leaves[p+".valueFrom.secretKeyRef.key"].Value
		}
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestFindModuleRoot(t *testing.T) {
	t.Parallel()
	dir, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if modulePath([]byte("// comment\nmodule github.com/hubkit/hubkit\n\ngo 1.26\n")) != "github.com/hubkit/hubkit" {
		t.Fatal("modulePath misreads a go.mod with a leading comment")
	}
	if _, err := os.Stat(dir + "/Pulumi.yaml"); err != nil {
		t.Fatalf("module root %s has no Pulumi.yaml: %v", dir, err)
	}
}

// TestSecretRotationRollsPods: changing a secret changes the hub Secret and
// the pod template's (secret) checksum annotation — nothing else.
func TestSecretRotationRollsPods(t *testing.T) {
	t.Parallel()
	rotated := prodValues()
	rotated["apiKey"] = "rotated-api-key"
	a, _ := mustRun(t, "prod", prodValues(), prodSecrets, true)
	b, _ := mustRun(t, "prod", rotated, prodSecrets, true)
	diff := pulumimock.Diff(a, b)
	want := map[string]bool{
		tSecret + "::" + components.HubName + " stringData.api-key":                                                             false,
		tDeployment + "::" + components.HubName + " spec.template.metadata.annotations." + components.SecretsChecksumAnnotation: false,
	}
	for _, d := range diff {
		k := d[:strings.Index(d, ": ")]
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected change %s", d)
			continue
		}
		want[k] = true
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("rotation did not change %s (diff %q)", k, diff)
		}
	}
}
