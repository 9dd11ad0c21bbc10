package deploy_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hubkit/hubkit/infra/kit"
	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/tests/tools/controlplane"
)

// TestDeployDevStack deploys the dev stack with the kit's own program against
// a real control plane and walks the life cycle users go through: preview
// (nothing pushed), up (everything ready, image in the registry), up again
// (no changes), replicas 3 → 5 (only spec.replicas), a hub code change
// (image-only diff), and destroy. It also shows that an object the API
// server rejects fails `up` with the server's message, and that the prod
// stack refuses to deploy until its secrets are set, naming each one.
func TestDeployDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no deploy")
	}
	if os.Getenv("HUBKIT_DEPLOY_TEST") == "" && os.Getenv("CI") == "" {
		t.Skip("slow (a few minutes): set HUBKIT_DEPLOY_TEST=1 to run; CI always runs it")
	}
	root := testenv.RepoRoot(t)
	toolPath, err := pulumiPath(root)
	testenv.Require(t, "pulumi tools", err)
	cp := controlplane.StartTB(t)
	kc := cp.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	installCRDs(ctx, t, kc, certManagerCRDs())
	registry := startRegistry(t)
	repo := registry + "/hubkit"

	// The image is built from a copy of the module, so the code-change step
	// edits the copy, never the checkout.
	module := copyModule(t, root)
	stack := newDevStack(ctx, t, root, module, toolPath, cp.Kubeconfig())
	if err := stack.SetConfig(ctx, "imageRepository", auto.ConfigValue{Value: repo}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// If a step failed midway, leave nothing behind in the state dir's
		// cluster (which is about to stop anyway) and no lock in the backend.
		if t.Failed() {
			dctx, dcancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer dcancel()
			_, _ = stack.Destroy(dctx)
		}
	})

	t.Run("preview pushes nothing", func(t *testing.T) {
		rec := newStepRecorder()
		out := &lineWriter{t: t}
		if _, err := stack.Preview(ctx, optpreview.EventStreams(rec.ch), optpreview.ProgressStreams(out)); err != nil {
			t.Fatalf("preview: %v", err)
		}
		creates := 0
		for _, s := range rec.changes() {
			if s.Op != apitype.OpCreate {
				t.Errorf("first preview: %v, want only creates", s)
			}
			creates++
		}
		if creates == 0 {
			t.Error("first preview creates nothing")
		}
		if repos := catalog(ctx, t, registry); len(repos) != 0 {
			t.Errorf("registry holds %v after a preview, want nothing pushed", repos)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	var ns string
	t.Run("up creates everything ready", func(t *testing.T) {
		res := up(ctx, t, stack)
		ns = res.Outputs["namespace"].Value.(string)
		image := res.Outputs["image"].Value.(string)

		d := getDeployment(ctx, t, kc, ns)
		if d.Spec.Replicas != 3 || d.Status.AvailableReplicas != 3 || !controlplane.HasCondition(d.Status.Conditions, "Available") {
			t.Errorf("deployment %s: spec.replicas %d, %d available, conditions %+v; want 3 Available",
				d.Metadata.Name, d.Spec.Replicas, d.Status.AvailableReplicas, d.Status.Conditions)
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			t.Errorf("deployment image %q, stack output image %q", got, image)
		}
		ref, digest, ok := strings.Cut(image, "@")
		if !ok || ref != repo || !strings.HasPrefix(digest, "sha256:") {
			t.Fatalf("image %q, want %s@sha256:…", image, repo)
		}
		if found, err := manifestExists(ctx, registry, "hubkit", digest); err != nil || !found {
			t.Errorf("registry has no manifest %s (err %v)", digest, err)
		}

		var sts list[statefulSet]
		if err := kc.Get(ctx, "/apis/apps/v1/namespaces/"+ns+"/statefulsets", &sts); err != nil {
			t.Fatal(err)
		}
		if len(sts.Items) != 1 {
			t.Fatalf("%d StatefulSets, want 1 (redis)", len(sts.Items))
		}
		if s := sts.Items[0]; s.Status.ReadyReplicas != s.Spec.Replicas || s.Spec.Replicas < 1 {
			t.Errorf("statefulset %s: %d/%d ready", s.Metadata.Name, s.Status.ReadyReplicas, s.Spec.Replicas)
		}

		var ings list[ingress]
		if err := kc.Get(ctx, "/apis/networking.k8s.io/v1/namespaces/"+ns+"/ingresses", &ings); err != nil {
			t.Fatal(err)
		}
		if len(ings.Items) != 1 || len(ings.Items[0].Status.LoadBalancer.Ingress) == 0 {
			t.Errorf("ingresses %+v, want one with a load-balancer address", ings.Items)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("second up changes nothing", func(t *testing.T) {
		rec := newStepRecorder()
		res, err := stack.Up(ctx, optup.EventStreams(rec.ch), optup.ProgressStreams(&lineWriter{t: t}))
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		for _, s := range rec.changes() {
			if isDefaultProvider(s) {
				// A resource registered without a provider version (the Go
				// SDK's apiextensions.NewCustomResource passes none) makes
				// the first up create an unversioned default provider that
				// the second up drops. It is not a change of any resource;
				// the preview below proves the state has converged.
				t.Logf("second up: %v (default provider housekeeping)", s)
				continue
			}
			t.Errorf("second up: %v, want no change", s)
		}
		if res.Summary.ResourceChanges != nil {
			for op, n := range *res.Summary.ResourceChanges {
				if op != string(apitype.OpSame) {
					t.Errorf("second up summary: %s %d, want only same", op, n)
				}
			}
		}
		rec = newStepRecorder()
		if _, err := stack.Preview(ctx, optpreview.EventStreams(rec.ch)); err != nil {
			t.Fatalf("preview: %v", err)
		}
		for _, s := range rec.changes() {
			t.Errorf("preview after the second up: %v, want no change at all", s)
		}
	})

	t.Run("replicas 3 to 5 updates only spec.replicas", func(t *testing.T) {
		before := fingerprints(ctx, t, kc, ns)
		if err := stack.SetConfig(ctx, "replicas", auto.ConfigValue{Value: "5"}); err != nil {
			t.Fatal(err)
		}
		rec := newStepRecorder()
		out := &lineWriter{t: t}
		if _, err := stack.Preview(ctx, optpreview.Diff(), optpreview.EventStreams(rec.ch), optpreview.ProgressStreams(out)); err != nil {
			t.Fatalf("preview: %v", err)
		}
		onlyDeploymentUpdate(t, rec.changes(), func(path string) bool { return path == "spec.replicas" })

		res := up(ctx, t, stack)
		if n := res.Outputs["replicas"].Value; fmt.Sprint(n) != "5" {
			t.Errorf("replicas output %v, want 5", n)
		}
		// The provider's await returns once the rollout is accepted; the
		// two extra pods become Available right after.
		controlplane.WaitFor(ctx, t, "5 available replicas", func() error {
			d := getDeployment(ctx, t, kc, ns)
			if d.Spec.Replicas != 5 || d.Status.AvailableReplicas != 5 || !controlplane.HasCondition(d.Status.Conditions, "Available") {
				return fmt.Errorf("spec.replicas %d, %d available", d.Spec.Replicas, d.Status.AvailableReplicas)
			}
			return nil
		})
		after := fingerprints(ctx, t, kc, ns)
		t.Logf("compared %d objects before and after scaling", len(before))
		if _, ok := before["PodDisruptionBudget/hubkit-hub"]; !ok {
			t.Errorf("no PodDisruptionBudget hubkit-hub among %d objects", len(before))
		}
		if len(after) != len(before) {
			t.Errorf("objects before %d, after %d", len(before), len(after))
		}
		for obj, fp := range before {
			if strings.HasPrefix(obj, "Deployment/") || strings.HasPrefix(obj, "ReplicaSet/") {
				continue // the scaled workload and its ReplicaSet
			}
			if after[obj] != fp {
				t.Errorf("%s changed, want untouched:\nbefore %s\nafter  %s", obj, fp, after[obj])
			}
		}
	})

	t.Run("hub code change diffs only the image", func(t *testing.T) {
		change := filepath.Join(module, "service", "cmd", "hub", "zz_deploy_test_change.go")
		src := "package main\n\nimport \"os\"\n\n// A change made by tests/deploy: the image digest must follow the code.\nfunc init() {\n\tif os.Getenv(\"HUBKIT_DEPLOY_TEST_CHANGE\") == \"1\" {\n\t\t_, _ = os.Stderr.WriteString(\"changed\\n\")\n\t}\n}\n"
		if err := os.WriteFile(change, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		rec := newStepRecorder()
		if _, err := stack.Preview(ctx, optpreview.Diff(), optpreview.EventStreams(rec.ch), optpreview.ProgressStreams(&lineWriter{t: t})); err != nil {
			t.Fatalf("preview: %v", err)
		}
		onlyDeploymentUpdate(t, rec.changes(), func(path string) bool {
			return strings.HasPrefix(path, "spec.template.spec.containers[") && strings.HasSuffix(path, "].image")
		})
	})

	t.Run("rejected object fails with the server's message", func(t *testing.T) {
		testRejectedObject(ctx, t, root, toolPath, cp.Kubeconfig())
	})

	t.Run("destroy removes everything", func(t *testing.T) {
		rec := newStepRecorder()
		if _, err := stack.Destroy(ctx, optdestroy.EventStreams(rec.ch), optdestroy.ProgressStreams(&lineWriter{t: t})); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		rec.wait()
		err := kc.Get(ctx, "/api/v1/namespaces/"+ns, nil)
		if !controlplane.IsNotFound(err) {
			t.Errorf("namespace %s after destroy: %v, want NotFound", ns, err)
		}
		for _, coll := range []string{
			"/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/api/v1/services",
			"/apis/networking.k8s.io/v1/ingresses", "/apis/policy/v1/poddisruptionbudgets",
			"/apis/networking.k8s.io/v1/networkpolicies", "/apis/cert-manager.io/v1/issuers",
			"/apis/cert-manager.io/v1/certificates", "/apis/cert-manager.io/v1/clusterissuers",
		} {
			var l list[object]
			if err := kc.Get(ctx, coll, &l); err != nil {
				t.Fatal(err)
			}
			for _, o := range l.Items {
				if o.Metadata.Namespace == ns || (o.Metadata.Namespace == "" && strings.Contains(o.Metadata.Name, "hubkit")) {
					t.Errorf("%s %s/%s left after destroy", coll, o.Metadata.Namespace, o.Metadata.Name)
				}
			}
		}
	})

	t.Run("prod stack refuses until its secrets are set", func(t *testing.T) {
		prod := newStack(ctx, t, root, "prod", kit.New(kit.Options{ModuleDir: module}), toolPath, cp.Kubeconfig())
		_, err := prod.Up(ctx)
		if err == nil {
			_, _ = prod.Destroy(ctx)
			t.Fatal("up of the prod stack without its secrets succeeded")
		}
		for _, key := range []string{"host", "imageRepository", "redisPassword", "apiKey", "jwtSecret"} {
			if !strings.Contains(err.Error(), key) {
				t.Errorf("prod up error does not name missing %q:\n%v", key, err)
			}
		}
		t.Logf("prod refused: %s", firstLineWith(err.Error(), "redisPassword"))
		if err := kc.Get(ctx, "/api/v1/namespaces/"+ns, nil); !controlplane.IsNotFound(err) {
			t.Errorf("namespace %s after the refused prod up: %v, want NotFound", ns, err)
		}
	})
}

// testRejectedObject shows how an object the API server refuses surfaces:
// `up` fails with the server's own message.
func testRejectedObject(ctx context.Context, t *testing.T, root, toolPath, kubeconfig string) {
	program := func(ctx *pulumi.Context) error {
		_, err := corev1.NewConfigMap(ctx, "rejected", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("Not_A_DNS_Name"), Namespace: pulumi.String("default")},
			Data:     pulumi.StringMap{"k": pulumi.String("v")},
		})
		return err
	}
	stack := newStack(ctx, t, root, "reject", program, toolPath, kubeconfig)
	_, err := stack.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "metadata.name: Invalid value") || !strings.Contains(err.Error(), "Not_A_DNS_Name") {
		t.Fatalf("up of an invalid ConfigMap: got %v, want the API server's validation message", err)
	}
	t.Logf("rejected as expected: %s", firstLineWith(err.Error(), "Invalid value"))
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// newDevStack creates stack "dev" of the project in a scratch work dir that
// holds copies of Pulumi.yaml and stacks/Pulumi.dev.yaml (so config changes
// never touch the checkout), with a local file:// backend, a passphrase
// secrets provider, and the kit's program inline.
func newDevStack(ctx context.Context, t *testing.T, root, module, toolPath, kubeconfig string) auto.Stack {
	t.Helper()
	return newStack(ctx, t, root, "dev", kit.New(kit.Options{ModuleDir: module}), toolPath, kubeconfig)
}

// newStack creates stack name of the project with program inline; see
// newDevStack.
func newStack(ctx context.Context, t *testing.T, root, name string, program pulumi.RunFunc, toolPath, kubeconfig string) auto.Stack {
	t.Helper()
	work := t.TempDir()
	copyFile(t, filepath.Join(root, "Pulumi.yaml"), filepath.Join(work, "Pulumi.yaml"))
	if cfg := filepath.Join(root, "stacks", "Pulumi."+name+".yaml"); fileExists(cfg) {
		copyFile(t, cfg, filepath.Join(work, "stacks", "Pulumi."+name+".yaml"))
	}
	// The CLI checks that the project's main directory exists; the program
	// itself runs inline, in this process.
	if err := os.Mkdir(filepath.Join(work, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	backend := t.TempDir()
	env := map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + backend,
		"PULUMI_CONFIG_PASSPHRASE":                    "hubkit-deploy-test",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
		"KUBECONFIG": kubeconfig,
		"PATH":       toolPath + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	stack, err := auto.NewStackInlineSource(ctx, name, "hubkit", program,
		auto.WorkDir(work),
		auto.PulumiHome(t.TempDir()),
		auto.Pulumi(pulumiCommand(t, toolPath)),
		auto.EnvVars(env),
		auto.SecretsProvider("passphrase"),
	)
	if err != nil {
		t.Fatal(err)
	}
	return stack
}

// up runs `pulumi up` and fails the test with the engine's (and so the API
// server's) message if it fails.
func up(ctx context.Context, t *testing.T, stack auto.Stack) auto.UpResult {
	t.Helper()
	rec := newStepRecorder()
	res, err := stack.Up(ctx, optup.EventStreams(rec.ch), optup.ProgressStreams(&lineWriter{t: t}))
	if err != nil {
		t.Fatalf("up: %v\ndiagnostics:\n%s", err, strings.Join(rec.diagnostics(), "\n"))
	}
	rec.wait()
	return res
}

// isDefaultProvider reports whether s is a step of an unversioned default
// provider resource.
func isDefaultProvider(s step) bool {
	return strings.HasPrefix(s.Type, "pulumi:providers:") && strings.HasSuffix(s.URN, "::default")
}

// onlyDeploymentUpdate asserts steps is exactly one update, of the hub
// Deployment, whose detailed diff paths all satisfy want.
func onlyDeploymentUpdate(t *testing.T, steps []step, want func(path string) bool) {
	t.Helper()
	if len(steps) != 1 {
		t.Fatalf("preview has %d changes %v, want exactly one update of the Deployment", len(steps), steps)
	}
	s := steps[0]
	if s.Op != apitype.OpUpdate || s.Type != "kubernetes:apps/v1:Deployment" {
		t.Fatalf("preview change %v, want an update of the Deployment", s)
	}
	if len(s.DetailedDiff) == 0 {
		t.Fatalf("preview change %v has no detailed diff", s)
	}
	for _, p := range s.DetailedDiff {
		if !want(p) {
			t.Errorf("preview diff path %q not expected (all: %v)", p, s.DetailedDiff)
		}
	}
}

// copyModule copies the module files the hub image is built from (go.mod,
// go.sum, service/) into a temporary directory.
func copyModule(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	copyFile(t, filepath.Join(root, "go.mod"), filepath.Join(dst, "go.mod"))
	copyFile(t, filepath.Join(root, "go.sum"), filepath.Join(dst, "go.sum"))
	err := filepath.WalkDir(filepath.Join(root, "service"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		copyFile(t, path, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// catalog lists the registry's repositories.
func catalog(ctx context.Context, t *testing.T, hostPort string) []string {
	t.Helper()
	var c struct {
		Repositories []string `json:"repositories"`
	}
	if err := getJSON(ctx, "http://"+hostPort+"/v2/_catalog", &c); err != nil {
		t.Fatal(err)
	}
	return c.Repositories
}
