package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const targetEnv = "CONFORMANCE_TARGET"

// nodeOrSkip returns the node binary, or skips (fails in CI) without it.
func nodeOrSkip(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("..", "node", "node_modules", "socket.io", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node and tests/node/node_modules are required in CI: %v", err)
		}
		t.Skipf("node reference unavailable: %v", err)
	}
	return node
}

// startNodeReference runs node/server.js and returns its base URL.
func startNodeReference(t *testing.T) string {
	t.Helper()
	node := nodeOrSkip(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, filepath.Join("node", "server.js"), "0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); cancel(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		var ready struct{ Port int }
		if json.Unmarshal([]byte(l), &ready) != nil || ready.Port == 0 {
			t.Fatalf("node reference: %q %s", l, stderr.String())
		}
		return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
	case <-time.After(15 * time.Second):
		t.Fatalf("node reference did not start: %s", stderr.String())
	}
	return ""
}

// TestSuiteAgainstNodeReference reruns this package's suite against the
// reference Node servers (engine.io 6.6, socket.io 4.8): the checks must
// encode the reference behaviour, not just the hub's.
func TestSuiteAgainstNodeReference(t *testing.T) {
	if os.Getenv(targetEnv) != "" {
		t.Skip("already running against a chosen target")
	}
	t.Parallel()
	nodeOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^Test(EngineIO|SocketIO)", "-test.count=1")
	cmd.Env = append(os.Environ(), targetEnv+"=node")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite fails against the Node reference servers: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("no test ran:\n%s", out)
	}
}
