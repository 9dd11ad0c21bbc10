package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// Cluster is a Redis Cluster of real redis-server processes (masters only).
type Cluster struct {
	Nodes []*testenv.Redis
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// URL is a REDIS_URL naming every node (go-redis' cluster URL form).
func (c *Cluster) URL() string { return "redis://" + strings.Join(c.Addrs(), ",") }

// clusterPort picks a port whose cluster bus port (+10000) is free too.
func clusterPort() (int, error) {
	for range 100 {
		p := 20000 + rand.IntN(30000)
		ok := true
		for _, q := range []int{p, p + 10000} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
			if err != nil {
				ok = false
				break
			}
			_ = l.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("redistest: no free port pair")
}

// StartCluster starts n cluster-enabled redis-servers, joins them with
// redis-cli --cluster create, waits for cluster_state:ok, and stops them at
// cleanup. It needs redis-cli besides redis-server (same skip rules).
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs a redis-server")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/redis-cli"); statErr == nil {
			cli, err = "/usr/bin/redis-cli", nil
		}
	}
	testenv.Require(t, "redis-cli", err)
	c := &Cluster{}
	for range n {
		port, err := clusterPort()
		if err != nil {
			t.Fatal(err)
		}
		s := testenv.RedisServer(t, testenv.RedisPort(port),
			testenv.RedisArgs("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"))
		c.Nodes = append(c.Nodes, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range c.Nodes {
		for {
			out, _ := exec.CommandContext(ctx, cli, "-p", strconv.Itoa(s.Port()), "cluster", "info").Output()
			if strings.Contains(string(out), "cluster_state:ok") && strings.Contains(string(out), "cluster_slots_assigned:16384") {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("redis cluster did not converge: %s", out)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return c
}
