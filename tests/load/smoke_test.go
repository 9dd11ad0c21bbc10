package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestMain doubles as the worker: the coordinator re-executes os.Executable,
// which under `go test` is this test binary.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := run(context.Background(), nil, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "load worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// nodeHub starts tests/nodehub/server.js on a free loopback port and returns
// its base URL and pid. It is stopped when the test ends. It skips under
// -short (the unit-tests-only mode), and without node or its packages
// outside CI (testenv.Node).
func nodeHub(t *testing.T, env ...string) (string, int) {
	t.Helper()
	if testing.Short() {
		t.Skip("smoke test needs real servers; skipped with -short")
	}
	node := testenv.Node(t, "socket.io")
	cmd := exec.Command(node.Bin, filepath.Join("..", "nodehub", "server.js"))
	cmd.Env = append(os.Environ(), append([]string{"PORT=0", "HOST=127.0.0.1"}, env...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	testenv.StartCmd(t, cmd)
	var ready struct {
		Port int `json:"port"`
		PID  int `json:"pid"`
	}
	l, err := testenv.FirstLine(out, 20*time.Second)
	if err != nil {
		t.Fatalf("nodehub did not start: %v", err)
	}
	if err := json.Unmarshal([]byte(l), &ready); err != nil || ready.Port == 0 {
		t.Fatalf("nodehub said %q", l)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port), ready.PID
}

// runTool runs the whole tool in-process (workers are child processes) and
// returns its JSON report.
func runTool(t *testing.T, args ...string) report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var human strings.Builder
	err := run(ctx, append(args, "-json", path, "-timeout", "90s"), nil, &human, io.Discard)
	t.Logf("tool output:\n%s", human.String())
	if err != nil {
		t.Fatalf("tool failed: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkPhase(t *testing.T, p phaseReport) {
	t.Helper()
	if p.Sent == 0 || p.Expected == 0 {
		t.Fatalf("phase %d sent %d, expected %d deliveries: nothing measured", p.Phase, p.Sent, p.Expected)
	}
	if p.Acked != p.Sent || p.AckErrors != 0 || p.SendErrors != 0 {
		t.Errorf("phase %d: sent %d, acked %d, ack errors %d, send errors %d (%v)", p.Phase, p.Sent, p.Acked, p.AckErrors, p.SendErrors, p.Errors)
	}
	if p.Received != p.Expected || p.Lost != 0 || p.Extra != 0 {
		t.Errorf("phase %d: received %d of %d expected (lost %d, extra %d)", p.Phase, p.Received, p.Expected, p.Lost, p.Extra)
	}
	if p.Latency.Count != uint64(p.Received) || p.Latency.P50Ms <= 0 || p.Latency.P99Ms < p.Latency.P50Ms || p.Latency.MaxMs < p.Latency.P99Ms {
		t.Errorf("phase %d: inconsistent latency %+v for %d deliveries", p.Phase, p.Latency, p.Received)
	}
	if p.Disconnects != 0 {
		t.Errorf("phase %d: %d disconnects (%v)", p.Phase, p.Disconnects, p.Errors)
	}
}

// TestSmokeNodeSingle drives one Node hub with 50 subscribers in 5 rooms and
// 5 publishers from two worker processes and four source addresses, through a
// two-step ramp.
func TestSmokeNodeSingle(t *testing.T) {
	t.Parallel()
	url, pid := nodeHub(t)
	rep := runTool(t, "-targets", url, "-pids", fmt.Sprint(pid),
		"-clients", "50", "-rooms", "5", "-publishers", "5", "-rate", "50",
		"-duration", "2s", "-drain", "1s", "-settle", "500ms", "-procs", "2", "-sources", "4",
		"-ramp-factor", "2", "-ramp-steps", "2", "-ramp-max-p99", "1h")
	if rep.Connect.Connected != 55 || rep.Connect.Failed != 0 {
		t.Fatalf("connected %d, failed %d: %v", rep.Connect.Connected, rep.Connect.Failed, rep.Connect.Errors)
	}
	if rep.Memory == nil || rep.Memory.TotalAfterBytes <= 0 || rep.Memory.Connections != 55 {
		t.Fatalf("memory not sampled: %+v", rep.Memory)
	}
	if len(rep.Phases) != 2 || rep.Ramp == nil || rep.Ramp.HighestPassingPhase != 2 {
		t.Fatalf("ramp ran %d phases, ramp %+v", len(rep.Phases), rep.Ramp)
	}
	for _, p := range rep.Phases {
		checkPhase(t, p)
		if p.ServerCPUSeconds < 0 {
			t.Errorf("negative server CPU %v", p.ServerCPUSeconds)
		}
		if p.CrossReplica.Count != 0 {
			t.Errorf("cross-replica deliveries on a single target: %d", p.CrossReplica.Count)
		}
	}
	if got := rep.Phases[1].TargetRate; got != 100 {
		t.Errorf("second ramp step at %v msgs/s, want 100", got)
	}
}

// TestSmokeNodeCluster drives three Node replicas clustered through a private
// redis-server with @socket.io/redis-adapter; most deliveries cross replicas.
func TestSmokeNodeCluster(t *testing.T) {
	t.Parallel()
	redisURL := testenv.RedisServer(t).URL()
	var urls, pids []string
	for range 3 {
		u, p := nodeHub(t, "REDIS_URL="+redisURL)
		urls, pids = append(urls, u), append(pids, fmt.Sprint(p))
	}
	rep := runTool(t, "-targets", strings.Join(urls, ","), "-pids", strings.Join(pids, ","),
		"-clients", "60", "-rooms", "6", "-publishers", "6", "-rate", "60",
		"-duration", "2s", "-drain", "1s", "-settle", "200ms", "-ramp-max-p99", "1h")
	if rep.Connect.Connected != 66 {
		t.Fatalf("connected %d: %v", rep.Connect.Connected, rep.Connect.Errors)
	}
	if len(rep.Phases) != 1 {
		t.Fatalf("%d phases", len(rep.Phases))
	}
	p := rep.Phases[0]
	checkPhase(t, p)
	if p.CrossReplica.Count == 0 || p.SameReplica.Count == 0 {
		t.Errorf("want both same- and cross-replica deliveries, got %d and %d", p.SameReplica.Count, p.CrossReplica.Count)
	}
	if len(p.Pairs) != 9 {
		t.Fatalf("want a 3×3 replica matrix, got %d pairs", len(p.Pairs))
	}
	for _, pair := range p.Pairs {
		if pair.Expected == 0 || pair.Received != pair.Expected {
			t.Errorf("replica %d -> %d: received %d of %d", pair.From, pair.To, pair.Received, pair.Expected)
		}
	}
}

// TestSmokeRampStopsAfterRetry makes every phase fail (p99 can never be under
// 1 ns) to check that a failing rate is retried once and then ends the ramp.
func TestSmokeRampStopsAfterRetry(t *testing.T) {
	t.Parallel()
	url, _ := nodeHub(t)
	rep := runTool(t, "-targets", url, "-clients", "20", "-rooms", "2", "-publishers", "2", "-rate", "20",
		"-duration", "1s", "-drain", "500ms", "-ramp-factor", "2", "-ramp-steps", "5", "-ramp-max-p99", "1ns")
	if len(rep.Phases) != 2 || rep.Phases[1].Retry != 1 || rep.Phases[1].TargetRate != 20 {
		t.Fatalf("want one attempt and one retry at 20 msgs/s, got %+v", rep.Phases)
	}
	if rep.Ramp == nil || rep.Ramp.HighestPassingPhase != 0 || !strings.Contains(rep.Ramp.StopReason, "2 attempts") {
		t.Fatalf("ramp %+v", rep.Ramp)
	}
	for _, p := range rep.Phases {
		checkPhase(t, p)
		if p.Pass || !strings.Contains(p.FailReason, "p99") {
			t.Errorf("phase %d: pass=%v reason %q", p.Phase, p.Pass, p.FailReason)
		}
	}
}
