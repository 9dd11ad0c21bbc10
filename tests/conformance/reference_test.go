package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

const targetEnv = "CONFORMANCE_TARGET"

// startNodeReference runs node/server.js and returns its base URL.
func startNodeReference(t *testing.T) string {
	t.Helper()
	node := testenv.Node(t, "socket.io").Bin
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
	l, err := testenv.FirstLine(stdout, 15*time.Second)
	var ready struct{ Port int }
	if err != nil || json.Unmarshal([]byte(l), &ready) != nil || ready.Port == 0 {
		t.Fatalf("node reference did not start: %q %v\n%s", l, err, stderr.String())
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
}

// TestSuiteAgainstNodeReference reruns this package's suite against the
// reference Node servers (engine.io 6.6, socket.io 4.8): the checks must
// encode the reference behaviour, not just the hub's.
func TestSuiteAgainstNodeReference(t *testing.T) {
	if os.Getenv(targetEnv) != "" {
		t.Skip("already running against a chosen target")
	}
	t.Parallel()
	testenv.Node(t, "socket.io")
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
