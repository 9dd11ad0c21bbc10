package topology

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/tests/topology/topo"
)

// freeRun returns the first of n consecutive free loopback ports.
func freeRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := testenv.FreePort(t)
		ok := true
		for i := 1; i < n && ok; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				ok = false
				continue
			}
			_ = l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

var hubPID = regexp.MustCompile(`cluster: (hub\d) on 127\.0\.0\.1:\d+ \(pid (\d+)\)`)

// TestClusterScript runs `make cluster`'s script: it prints the URL, the
// proxy answers over TLS with the affinity cookie and the replica header, a
// replica killed with SIGKILL leaves the others serving, and SIGTERM stops
// every process it started.
func TestClusterScript(t *testing.T) {
	t.Parallel()
	topo.Need(t, "haproxy")
	topo.Need(t, "redis-server")
	topo.Need(t, "openssl")
	port, base, redisPort := testenv.FreePort(t), freeRun(t, 3), testenv.FreePort(t)
	env := []string{"CLUSTER_DIR=" + t.TempDir(), "CLUSTER_PORT=" + strconv.Itoa(port), "CLUSTER_BASE=" + strconv.Itoa(base),
		"REDIS_PORT=" + strconv.Itoa(redisPort), "HUB_BIN=" + topo.HubBinary(t)}
	var mu sync.Mutex
	pids := map[string]int{}
	started := make(chan struct{}, 1)
	p := topo.StartProcLines(t, "cluster.sh", os.Environ(), env, func(line string) {
		if m := hubPID.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			mu.Lock()
			pids[m[1]] = n
			mu.Unlock()
		}
		if strings.HasPrefix(line, "cluster: https://") {
			started <- struct{}{}
		}
	}, "bash", filepath.Join(testenv.RepoRoot(t), "tests", "topology", "cluster.sh"))
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatalf("cluster.sh did not print its URL:\n%s", p.Output())
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/socket.io/?EIO=4&transport=polling"
	handshake := func() (*http.Response, error) {
		res, err := client.Get(url)
		if err == nil {
			_ = res.Body.Close()
		}
		return res, err
	}
	deadline := time.Now().Add(15 * time.Second)
	var res *http.Response
	var err error
	for {
		if res, err = handshake(); err == nil && res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no handshake through the proxy: %v %v\n%s", res, err, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rep := res.Header.Get("X-Hub-Replica"); !strings.HasPrefix(rep, "hub") {
		t.Errorf("X-Hub-Replica = %q", rep)
	}
	if c := res.Header.Get("Set-Cookie"); !strings.Contains(c, "HUBKIT_AFFINITY=") || !strings.Contains(c, "Secure") {
		t.Errorf("Set-Cookie = %q", c)
	}
	mu.Lock()
	victim := pids["hub1"]
	all := []int{pids["hub1"], pids["hub2"], pids["hub3"]}
	mu.Unlock()
	if victim == 0 {
		t.Fatalf("no replica PIDs printed:\n%s", p.Output())
	}
	_ = syscall.Kill(victim, syscall.SIGKILL)
	ok := 0
	for range 6 {
		if res, err := handshake(); err == nil && res.StatusCode == 200 && res.Header.Get("X-Hub-Replica") != "hub1" {
			ok++
		}
	}
	if ok != 6 {
		t.Errorf("%d of 6 handshakes succeeded on the remaining replicas after hub1 was killed", ok)
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("cluster.sh did not stop on SIGTERM")
	}
	for _, pid := range all[1:] {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("replica pid %d still runs after cluster.sh stopped", pid)
		}
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		_ = c.Close()
		t.Error("the proxy still listens after cluster.sh stopped")
	}
}
