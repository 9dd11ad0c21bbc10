package kit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// stackDirs are where a test stack keeps its files.
type stackDirs struct {
	Render  string // renderYamlToDirectory output
	Backend string // file:// backend: the state as the engine wrote it
}

// newStack creates stack `name` of project hubkit for an inline program, with
// its own PULUMI_HOME, a local file:// backend and passphrase secrets, all in
// a temp dir; the kubernetes provider renders to the returned directory. The
// stack is destroyed and removed when the test ends.
func newStack(ctx context.Context, t *testing.T, cliRoot string, toolPath []string, name string, program pulumi.RunFunc) (auto.Stack, stackDirs) {
	t.Helper()
	tmp := t.TempDir()
	renderDir := filepath.Join(tmp, "rendered")
	backend := filepath.Join(tmp, "state")
	if err := os.MkdirAll(backend, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: cliRoot})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATH": strings.Join(toolPath, ":") + ":" + os.Getenv("PATH"),
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_CONFIG_PASSPHRASE":                    "hubkit-kit-test",
		"PULUMI_BACKEND_URL":                          "file://" + backend,
		// Rendering needs no cluster; make sure none is ever reached.
		"KUBECONFIG": filepath.Join(tmp, "no-kubeconfig"),
	}
	stackName := auto.FullyQualifiedStackName("organization", "hubkit", name)
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, "hubkit", program,
		auto.Pulumi(cmd),
		auto.PulumiHome(filepath.Join(tmp, "home")),
		auto.EnvVars(env),
		auto.SecretsProvider("passphrase"),
		auto.Project(workspace.Project{
			Name:    "hubkit",
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: "file://" + backend},
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer ccancel()
		if _, err := stack.Destroy(cctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
		if err := stack.Workspace().RemoveStack(cctx, stackName); err != nil {
			t.Errorf("remove stack: %v", err)
		}
	})
	if err := stack.SetConfig(ctx, "kubernetes:renderYamlToDirectory", auto.ConfigValue{Value: renderDir}); err != nil {
		t.Fatal(err)
	}
	return stack, stackDirs{Render: renderDir, Backend: backend}
}

// stackConfig reads the plain values of stacks/Pulumi.<name>.yaml.
func stackConfig(t *testing.T, root, name string) auto.ConfigMap {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "stacks", "Pulumi."+name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cm := auto.ConfigMap{}
	for k, v := range doc.Config {
		if _, secure := v.(map[string]any); secure {
			continue
		}
		cm[k] = auto.ConfigValue{Value: fmt.Sprint(v)}
	}
	return cm
}
