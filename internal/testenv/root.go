package testenv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// module is the module path whose go.mod marks the repository root.
const module = "github.com/hubkit/hubkit"

// FindRepoRoot walks up from the working directory (a test runs in its
// package's directory) to the directory whose go.mod declares the hubkit
// module. Nested modules (tests/tools/*) are passed over.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declares(b, module) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod of " + module + " above the working directory")
		}
		dir = parent
	}
}

// declares reports whether the go.mod text b has the line "module mod".
func declares(b []byte, mod string) bool {
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) == 2 && string(f[0]) == "module" && string(f[1]) == mod {
			return true
		}
	}
	return false
}

// RepoRoot returns the repository root, failing the test when there is
// none (a checkout without its go.mod is broken, not a missing tool).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}
