package kit

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hubkit/hubkit/infra/components"
	"github.com/hubkit/hubkit/infra/imagebuild"
	"github.com/hubkit/hubkit/infra/kit"
	"github.com/hubkit/hubkit/internal/testenv"
)

// TestPreviewUpRender drives the real Pulumi engine over the kit's program,
// with the dev stack's own config file, an in-process OCI registry on
// loopback standing in for localhost:5000, and the kubernetes provider
// rendering YAML instead of calling a cluster.
func TestPreviewUpRender(t *testing.T) {
	t.Parallel()
	cliRoot, toolPath := pulumiTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	root := testenv.RepoRoot(t)
	moduleDir := hubModule(t, root)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	repo := strings.TrimPrefix(reg.URL, "http://") + "/hubkit"
	stack, dirs := newStack(ctx, t, cliRoot, toolPath, "dev", kit.New(kit.Options{ModuleDir: moduleDir}))

	cfg := stackConfig(t, root, "dev")
	cfg["hubkit:imageRepository"] = auto.ConfigValue{Value: repo}
	if err := stack.SetAllConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	// 1. First preview: everything to create, nothing pushed.
	var out bytes.Buffer
	pre, err := stack.Preview(ctx, optpreview.ProgressStreams(&out))
	if err != nil {
		t.Fatalf("preview: %v\n%s", err, out.String())
	}
	if pre.ChangeSummary[apitype.OpCreate] < 12 {
		t.Fatalf("first preview creates %d resources, want >= 12: %v", pre.ChangeSummary[apitype.OpCreate], pre.ChangeSummary)
	}
	if repos, err := remote.Catalog(ctx, mustRegistry(t, repo)); err != nil || len(repos) != 0 {
		t.Fatalf("preview pushed to the registry: %v %v", repos, err)
	}

	// 2. Up: pushes the image, renders manifests.
	out.Reset()
	up, err := stack.Up(ctx, optup.ProgressStreams(&out))
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	image, _ := up.Outputs["image"].Value.(string)
	if !strings.HasPrefix(image, repo+"@sha256:") {
		t.Fatalf("image output %q is not %s@sha256:…", image, repo)
	}
	ref, err := name.NewDigest(image)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("image not in the registry after up: %v", err)
	}
	if desc.Digest.String() != ref.DigestStr() {
		t.Fatalf("registry digest %s != output %s", desc.Digest, ref.DigestStr())
	}
	// The same source built outside Pulumi gives the same digest.
	res, err := imagebuild.Build(ctx, imagebuild.Config{ModuleDir: moduleDir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest.String() != ref.DigestStr() {
		t.Fatalf("program built %s, a direct build gives %s", ref.DigestStr(), res.Digest)
	}
	if got := up.Outputs["url"].Value; got != "https://hubkit.localtest.me" {
		t.Errorf("url output = %v", got)
	}
	if got := up.Outputs["redisEndpoint"].Value; got != "redis://hubkit-redis.hubkit.svc.cluster.local:6379" {
		t.Errorf("redisEndpoint output = %v", got)
	}

	// 3. The rendered manifests are valid typed Kubernetes objects.
	checkManifests(t, loadManifests(t, dirs.Render), image)

	// 4. A second preview of the same source and config changes nothing.
	out.Reset()
	pre, err = stack.Preview(ctx, optpreview.ProgressStreams(&out))
	if err != nil {
		t.Fatalf("second preview: %v\n%s", err, out.String())
	}
	for op, n := range pre.ChangeSummary {
		if op != apitype.OpSame && n != 0 {
			t.Errorf("second preview wants %d %s: %v\n%s", n, op, pre.ChangeSummary, out.String())
		}
	}

	// 5. Scaling 3 -> 5 is a one-resource, one-field update.
	if err := stack.SetConfig(ctx, "hubkit:replicas", auto.ConfigValue{Value: "5"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	pre, err = stack.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(&out))
	if err != nil {
		t.Fatalf("scale preview: %v\n%s", err, out.String())
	}
	if pre.ChangeSummary[apitype.OpUpdate] != 1 || len(nonSame(pre.ChangeSummary)) != 1 {
		t.Errorf("scale preview: %v, want exactly one update\n%s", pre.ChangeSummary, out.String())
	}
	if !strings.Contains(out.String(), "replicas: 3 => 5") {
		t.Errorf("scale preview diff does not show replicas: 3 => 5:\n%s", out.String())
	}
	t.Logf("scale preview diff:\n%s", out.String())
}

func nonSame(m map[apitype.OpType]int) map[apitype.OpType]int {
	out := map[apitype.OpType]int{}
	for op, n := range m {
		if op != apitype.OpSame && n != 0 {
			out[op] = n
		}
	}
	return out
}

func checkManifests(t *testing.T, m manifests, image string) {
	t.Helper()
	if m.Count != 12 || len(m.Deployments) != 1 || len(m.StatefulSets) != 1 || len(m.Ingresses) != 1 ||
		len(m.NetworkPolicies) != 1 || len(m.PDBs) != 1 || len(m.Issuers) != 1 || len(m.Services) != 3 {
		t.Fatalf("rendered %d objects: %d deployments, %d statefulsets, %d ingresses, %d netpols, %d pdbs, %d issuers, %d services",
			m.Count, len(m.Deployments), len(m.StatefulSets), len(m.Ingresses), len(m.NetworkPolicies), len(m.PDBs), len(m.Issuers), len(m.Services))
	}
	d := m.Deployments[0]
	if d.Name != components.HubName || d.Namespace != "hubkit" || *d.Spec.Replicas != 3 {
		t.Errorf("deployment %s/%s replicas %d", d.Namespace, d.Name, *d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != image {
		t.Errorf("deployment image %s, want %s", c.Image, image)
	}
	if d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Error("maxUnavailable is not 0")
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("probes do not hit /readyz and /healthz")
	}
	if c.Lifecycle.PreStop.Sleep == nil || *d.Spec.Template.Spec.TerminationGracePeriodSeconds <
		c.Lifecycle.PreStop.Sleep.Seconds+20+int64(components.DrainMargin/time.Second) {
		t.Error("grace period does not cover preStop + HUB_DRAIN_WINDOW (20s) + margin")
	}
	sc := c.SecurityContext
	if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || sc.Capabilities.Drop[0] != "ALL" {
		t.Error("hub container not read-only / unprivileged")
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	np := m.NetworkPolicies[0]
	sel, err := metav1.LabelSelectorAsSelector(np.Spec.Ingress[0].From[0].PodSelector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("Redis NetworkPolicy does not admit hub pods: %v", err)
	}
	target, _ := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if !target.Matches(labels.Set(m.StatefulSets[0].Spec.Template.Labels)) || target.Matches(podLabels) {
		t.Error("NetworkPolicy does not target exactly the Redis pod")
	}
	for _, s := range m.Services {
		if s.Name == components.HubName && !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			t.Error("hub Service does not select hub pods")
		}
	}
	ing := m.Ingresses[0]
	if ing.Annotations["nginx.ingress.kubernetes.io/affinity"] != "cookie" ||
		ing.Annotations["cert-manager.io/issuer"] != components.SelfSignedIssuer ||
		len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].Hosts[0] != "hubkit.localtest.me" {
		t.Errorf("ingress: annotations %v tls %v", ing.Annotations, ing.Spec.TLS)
	}
	if m.Issuers[0].Spec.SelfSigned == nil {
		t.Error("issuer is not selfSigned")
	}
	ss := m.StatefulSets[0]
	if !strings.Contains(ss.Spec.Template.Spec.Containers[0].Image, "@sha256:") || len(ss.Spec.VolumeClaimTemplates) != 1 {
		t.Error("redis not pinned by digest or without PVC")
	}
}

// hubModule returns the module dir to build the image from: the checkout,
// once service/cmd/hub loads. Until then (locally only) a throwaway copy of
// the module with a minimal hub main stands in.
func hubModule(t *testing.T, root string) string {
	t.Helper()
	probe := exec.Command("go", "list", "./service/cmd/hub")
	probe.Dir = root
	out, err := probe.CombinedOutput()
	if err == nil {
		return root
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("service/cmd/hub does not load: %s", out)
	}
	t.Logf("service/cmd/hub does not load yet, building a stand-in main: %s", out)
	dir := t.TempDir()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "service", "cmd", "hub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "service", "cmd", "hub", "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRegistry(t *testing.T, repo string) name.Registry {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	return r.Registry
}
