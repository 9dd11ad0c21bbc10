package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/internal/testenv"
)

// sentinelMaster is the master name the sentinels monitor.
const sentinelMaster = "mymaster"

// healBound is how long after the promotion cross-replica delivery must be
// back. Measured on a 2-core machine: 0.19–0.58 s after a kill (go-redis
// asks a sentinel for the master on every dial; the subscription loops
// retry every 0.5 s at most), 0.05–0.07 s after a manual failover (the
// adapter follows +switch-master). The bound is about ten times that, and
// half of the ~10 s the sentinels take to demote a surviving old master
// (when it drops its clients), so a subscription left behind on it fails.
const healBound = 5 * time.Second

// TestSentinelFailover runs two Go replicas on REDIS_URL=redis-sentinel://
// (three real sentinels watching a master and its replica) with a real
// socket.io-client on the second, while the first keeps emitting to the
// client's room, and fails the master over: "kill" SIGKILLs it (the
// sentinels notice and promote the replica), "manual" asks the sentinels
// for a failover (SENTINEL FAILOVER: the old master stays up and is
// demoted to a replica of the new one). It measures how long cross-replica
// delivery takes to come back after the kill or request and after the
// promotion. Local delivery must go on meanwhile and no replica may fail an
// emit or exit.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"classic", "sharded", "streams"} {
		for _, how := range []string{"kill", "manual"} {
			t.Run(mode+"-"+how, func(t *testing.T) {
				t.Parallel()
				needNode(t)
				testFailover(t, mode, how == "manual")
			})
		}
	}
}

func testFailover(t *testing.T, mode string, manual bool) {
	sn := newSentinels(t)
	a := startGo(t, sn.URL(), mode, "go1")
	b := startGo(t, sn.URL(), mode, "go2")
	l := listen(t, b.URL, "room")
	emit := func(s *server, event string) error {
		return get(s.URL + "/emit?" + url.Values{"room": {"room"}, "event": {event}}.Encode())
	}
	// the first emit may precede b's subscription (sharded: the room
	// channel is taken when the client joins): emit until one arrives
	start := time.Now()
	if emitUntil(t, l, "before", func() bool { return time.Since(start) > 10*time.Second },
		func(i int) error { return emit(a, fmt.Sprintf("before-%d", i)) }).IsZero() {
		t.Fatal("no cross-replica delivery before the failover")
	}

	promoted := sn.watchSwitch(t)
	t0 := time.Now()
	if manual {
		sc := redis.NewSentinelClient(&redis.Options{Addr: sn.addrs[0]})
		err := sc.Failover(context.Background(), sentinelMaster).Err()
		_ = sc.Close()
		if err != nil {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
	} else {
		sn.master.Stop() // SIGKILL
	}
	// both replicas keep serving meanwhile
	for i := range 3 {
		if err := emit(a, fmt.Sprintf("during-%d", i)); err != nil {
			t.Fatalf("replica a failed during the failover: %v", err)
		}
		if err := emit(b, "local-during"); err != nil {
			t.Fatalf("replica b failed during the failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitEvent(t, l, "recv local-during", 5*time.Second)

	// keep emitting from a until an event emitted after the promotion
	// reaches b's client: at most healBound after the promotion, which
	// must come within 15 s
	var at time.Time
	delivered := emitUntil(t, l, "after", func() bool {
		if at.IsZero() {
			return time.Since(t0) > 15*time.Second
		}
		return time.Since(at) > healBound
	}, func(i int) error {
		if at.IsZero() {
			select {
			case at = <-promoted:
			default:
				return emit(a, fmt.Sprintf("during-%d", i))
			}
		}
		return emit(a, fmt.Sprintf("after-%d", i))
	})
	switch {
	case at.IsZero():
		t.Fatal("the sentinels did not announce +switch-master within 15s")
	case delivered.IsZero():
		t.Fatalf("cross-replica delivery did not resume within %v of the promotion (%v after the failover began)",
			healBound, at.Sub(t0))
	}
	what := "master killed"
	if manual {
		what = "SENTINEL FAILOVER"
	}
	t.Logf("%s: %s → replica promoted %v → first cross-replica delivery %v (%v after the promotion)",
		mode, what, at.Sub(t0).Round(time.Millisecond), delivered.Sub(t0).Round(time.Millisecond),
		delivered.Sub(at).Round(time.Millisecond))
	if d := delivered.Sub(at); d > healBound {
		t.Errorf("delivery resumed %v after the promotion, want within %v", d, healBound)
	}
	sn.waitMaster(t, sn.replica.Addr())
	// and it stays back: after a manual failover the old master keeps
	// running (a master still, until the sentinels demote it ~10 s later),
	// so a subscription left on it would miss these
	for i := range 5 {
		if err := emit(a, fmt.Sprintf("final-%d", i)); err != nil {
			t.Fatalf("emit final-%d: %v", i, err)
		}
		waitEvent(t, l, fmt.Sprintf("recv final-%d", i), 2*time.Second)
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range []*server{a, b} {
		if s.cmd.ProcessState != nil {
			t.Errorf("%s exited", s.Name)
		}
	}
}

// emitUntil calls emit (with a counter) every 20ms until the listener
// reports an event whose name starts with prefix+"-", and returns when it
// arrived, or the zero time once stop returns true. An emit error fails
// the test.
func emitUntil(t *testing.T, l *listener, prefix string, stop func() bool, emit func(i int) error) time.Time {
	t.Helper()
	for i := 0; !stop(); i++ {
		if err := emit(i); err != nil {
			t.Fatalf("emit %s-%d: %v", prefix, i, err)
		}
		wait := time.After(20 * time.Millisecond)
	drain:
		for {
			select {
			case ev, ok := <-l.events:
				if !ok {
					t.Fatal("listener exited")
				}
				if strings.HasPrefix(ev, "recv "+prefix+"-") {
					return time.Now()
				}
			case <-wait:
				break drain
			}
		}
	}
	return time.Time{}
}

// sentinels is a master, one replica and three sentinels monitoring them,
// all real redis-server processes on loopback, stopped by PID at cleanup.
type sentinels struct {
	master, replica *testenv.Redis
	addrs           []string // the sentinels, host:port
}

// newSentinels starts the master, the replica, waits until the replica is
// in sync, then starts the sentinels (so that their first INFO of the
// master already lists the replica) and waits until each of them knows the
// replica and the two other sentinels.
func newSentinels(t *testing.T) *sentinels {
	t.Helper()
	// the replica's first sync is diskless; do not wait 5 s for others
	master := testenv.RedisServer(t, testenv.RedisArgs("--repl-diskless-sync-delay", "0"))
	replica := testenv.RedisServer(t, testenv.RedisArgs("--replicaof", "127.0.0.1", strconv.Itoa(master.Port())))
	sn := &sentinels{master: master, replica: replica}
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer rc.Close()
	testenv.Eventually(t, "the replica in sync", 10*time.Second, 20*time.Millisecond, func() bool {
		info, err := rc.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})

	bin, err := testenv.RedisBinary()
	testenv.Require(t, "redis-server", err)
	for i := range 3 {
		port := testenv.FreePort(t)
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		// sentinel rewrites its config file: it must be writable
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[3]s 500\n"+
			"sentinel failover-timeout %[3]s 3000\n"+
			"sentinel parallel-syncs %[3]s 1\n",
			port, dir, sentinelMaster, master.Port())
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, conf, "--sentinel", "--loglevel", "warning")
		cmd.Dir = dir
		startCmd(t, fmt.Sprintf("sentinel%d", i+1), cmd, func(line string) (string, bool) {
			return "", strings.Contains(line, "+monitor master "+sentinelMaster)
		})
		sn.addrs = append(sn.addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	for _, addr := range sn.addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		testenv.Eventually(t, "sentinel "+addr+" to see the replica and 2 sentinels", 15*time.Second,
			50*time.Millisecond, func() bool {
				ctx := context.Background()
				reps, err1 := sc.Replicas(ctx, sentinelMaster).Result()
				peers, err2 := sc.Sentinels(ctx, sentinelMaster).Result()
				return err1 == nil && err2 == nil && len(reps) == 1 &&
					reps[0]["flags"] == "slave" && len(peers) == 2
			})
		_ = sc.Close()
	}
	return sn
}

// URL is the REDIS_URL naming the three sentinels and the master name.
func (sn *sentinels) URL() string {
	return "redis-sentinel://" + strings.Join(sn.addrs, ",") + "/" + sentinelMaster
}

// waitMaster waits until every sentinel names addr as the master.
func (sn *sentinels) waitMaster(t *testing.T, addr string) {
	t.Helper()
	for _, s := range sn.addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s})
		var got string
		testenv.Eventually(t, "sentinel "+s+" to name "+addr+" master", 5*time.Second, 20*time.Millisecond, func() bool {
			a, err := sc.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
			if err == nil {
				got = net.JoinHostPort(a[0], a[1])
			}
			return got == addr
		})
		_ = sc.Close()
	}
}

// watchSwitch subscribes to +switch-master on every sentinel; the channel
// it returns receives the time of the first announcement (the leader's).
func (sn *sentinels) watchSwitch(t *testing.T) <-chan time.Time {
	t.Helper()
	out := make(chan time.Time, 1)
	var once sync.Once
	var wg sync.WaitGroup
	var closers []func() error
	// a blocked ReceiveMessage returns when its PubSub is closed (not on
	// ctx cancellation): close them all, then wait
	t.Cleanup(func() {
		for _, c := range closers {
			_ = c()
		}
		wg.Wait()
	})
	ctx := context.Background()
	for _, addr := range sn.addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		ps := sc.Subscribe(ctx, "+switch-master")
		closers = append(closers, ps.Close, sc.Close)
		if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
			t.Fatalf("subscribe +switch-master on %s: %v", addr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, err := ps.ReceiveMessage(ctx)
				if err != nil {
					return
				}
				if strings.HasPrefix(msg.Payload, sentinelMaster+" ") {
					now := time.Now()
					once.Do(func() { out <- now })
				}
			}
		}()
	}
	return out
}
