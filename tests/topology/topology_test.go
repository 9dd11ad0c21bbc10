// Package topology tests the production topology on one machine (real
// redis-server, three hub replicas, HAProxy with TLS and cookie affinity)
// with the real socket.io-client, and the streams mode against Node
// replicas running @socket.io/redis-streams-adapter. cluster.sh (make
// cluster) starts the same topology by hand.
package topology

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/tests/topology/topo"
)

// runScenario runs one js/topology.js scenario and turns its PASS/FAIL
// lines into test results.
func runScenario(t *testing.T, url, scenario string) {
	t.Helper()
	runScript(t, "topology.js", scenario, url)
}

// runScript runs js/<script> with args; its PASS/FAIL lines become test
// results.
func runScript(t *testing.T, script string, args ...string) {
	t.Helper()
	node := topo.Node(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node.Bin, append([]string{filepath.Join(testenv.RepoRoot(t), "tests", "topology", "js", script)}, args...)...)
	cmd.Env = node.Env()
	out, err := cmd.CombinedOutput()
	passes := 0
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "PASS "):
			passes++
			t.Log(line)
		case strings.HasPrefix(line, "FAIL "):
			t.Error(line)
		case strings.HasPrefix(line, "INFO "):
			t.Log(line)
		}
	}
	if err != nil || passes == 0 {
		t.Errorf("%s %v: %v, %d passes\n%s", script, args, err, passes, out)
	}
}

// TestThroughHAProxy: through HAProxy with TLS, a polling-only client stays
// on one replica across many requests (X-Hub-Replica), polling upgrades to
// websocket through the proxy, and clients on different replicas exchange
// room messages.
func TestThroughHAProxy(t *testing.T) {
	t.Parallel()
	topo.Node(t)
	top := topo.Start(t, topo.Options{})
	for _, sc := range []string{"polling", "upgrade", "rooms"} {
		t.Run(sc, func(t *testing.T) { runScenario(t, top.ProxyURL(), sc) })
	}
}

// TestMixedGoNodeRecovery: a Go hub replica (streams mode) and a Node
// replica on @socket.io/redis-streams-adapter 0.3.1 share one Redis; the
// stock client recovers (socket.recovered === true, same id, exactly the
// missed room events) from the Node replica onto the Go one and back.
func TestMixedGoNodeRecovery(t *testing.T) {
	t.Parallel()
	node := topo.Node(t)
	top := topo.Start(t, topo.Options{Replicas: 1, NoProxy: true})
	urlCh := make(chan string, 1)
	topo.StartProcLines(t, "node-replica", node.Env(), nil, func(line string) {
		if u, ok := strings.CutPrefix(line, "LISTEN "); ok {
			urlCh <- u
		}
	}, node.Bin, filepath.Join(testenv.RepoRoot(t), "tests", "topology", "js", "node-replica.js"), top.Redis.URL())
	var nodeURL string
	select {
	case nodeURL = <-urlCh:
	case <-time.After(20 * time.Second):
		t.Fatal("the Node replica did not start")
	}
	runScript(t, "mixed.js", top.Hubs[0].URL(), nodeURL)
}
