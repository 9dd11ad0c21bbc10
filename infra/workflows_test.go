package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestWorkflowsActionlint lints .github/workflows with actionlint
// (go install github.com/rhysd/actionlint/cmd/actionlint@latest). Locally a
// missing actionlint skips; in CI it fails.
func TestWorkflowsActionlint(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("actionlint")
	if err != nil {
		if home, herr := os.UserHomeDir(); herr == nil {
			if p := filepath.Join(home, "go", "bin", "actionlint"); fileExists(p) {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("actionlint not found; go install github.com/rhysd/actionlint/cmd/actionlint@latest")
		}
		t.Skip("actionlint not installed")
	}
	files, err := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows found: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"-no-color"}, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
