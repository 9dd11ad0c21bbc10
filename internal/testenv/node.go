package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeJS is a node binary and the repository's tests/node/node_modules
// (installed by `npm ci --prefix tests/node`).
type NodeJS struct {
	Bin     string // the node binary
	Modules string // absolute path of tests/node/node_modules
}

// Env is the current environment with NODE_PATH set to Modules, so a
// script outside tests/node resolves require("socket.io-client") there.
func (n NodeJS) Env() []string {
	return append(os.Environ(), "NODE_PATH="+n.Modules)
}

// FindNode looks up node on PATH and checks that each named package (a
// directory name under node_modules, such as "socket.io-client") is
// installed. The error names what is missing.
func FindNode(packages ...string) (NodeJS, error) {
	bin, err := exec.LookPath("node")
	if err != nil {
		return NodeJS{}, fmt.Errorf("node not on PATH: %w", err)
	}
	root, err := FindRepoRoot()
	if err != nil {
		return NodeJS{}, err
	}
	n := NodeJS{Bin: bin, Modules: filepath.Join(root, "tests", "node", "node_modules")}
	var missing []error
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(n.Modules, p)); err != nil {
			missing = append(missing, fmt.Errorf("tests/node/node_modules/%s not installed (run npm ci --prefix tests/node): %w", p, err))
		}
	}
	return n, errors.Join(missing...)
}

// Node returns node and tests/node/node_modules with the named packages
// installed; when either is missing the test is skipped, or failed when CI
// is set (see Require). It does not skip under -short: callers that are
// slow do that themselves.
func Node(tb testing.TB, packages ...string) NodeJS {
	tb.Helper()
	n, err := FindNode(packages...)
	Require(tb, "node or tests/node/node_modules", err)
	return n
}
