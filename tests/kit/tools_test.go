package kit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubkit/hubkit/internal/testenv"
)

// pulumiTools returns the CLI root (its bin/ holds pulumi) and the PATH
// directories holding the CLI and the kubernetes provider plugin.
func pulumiTools(t *testing.T) (cliRoot string, path []string) {
	t.Helper()
	if os.Getenv("CI") == "" && os.Getenv("HUBKIT_KIT_E2E") == "" {
		t.Skip("slow end-to-end kit test: set HUBKIT_KIT_E2E=1 (CI runs it)")
	}
	script := filepath.Join(testenv.RepoRoot(t), "tests", "tools", "build-pulumi.sh")
	out, err := exec.Command("bash", script, "--print-path").Output()
	if err != nil {
		t.Fatalf("%s --print-path: %v", script, err)
	}
	path = strings.Split(strings.TrimSpace(string(out)), ":")
	if len(path) != 2 {
		t.Fatalf("unexpected tool path %q", out)
	}
	for _, bin := range []string{filepath.Join(path[0], "pulumi"), filepath.Join(path[1], "pulumi-resource-kubernetes")} {
		if _, err := os.Stat(bin); err != nil {
			testenv.Require(t, bin, fmt.Errorf("run tests/tools/build-pulumi.sh first: %w", err))
		}
	}
	if err := exec.Command("bash", script, "--check").Run(); err != nil {
		testenv.Require(t, "up-to-date pulumi tools", fmt.Errorf("stale, rerun tests/tools/build-pulumi.sh: %w", err))
	}
	return filepath.Dir(path[0]), path
}
