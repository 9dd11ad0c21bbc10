package cluster

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestGoReplicas: three Go replicas on one Redis, a real socket.io-client
// on each: room broadcast (with binary), except, broadcast with acks,
// fetchSockets, serverSideEmit with and without acks, socketsJoin/Leave and
// disconnectSockets, each driven from every replica; in classic mode also
// an @socket.io/redis-emitter publishing into the cluster.
func TestGoReplicas(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"classic", "sharded"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			needNode(t)
			r := newRedis(t)
			s := []*server{
				startGo(t, r.URL(), mode, "go1"),
				startGo(t, r.URL(), mode, "go2"),
				startGo(t, r.URL(), mode, "go3"),
			}
			waitServers(t, r.Addr(), mode, 3)
			runDriver(t, r.URL(), mode, mode == "classic", s...)
		})
	}
}

// TestMixedNodeAndGo: one Node replica (npm socket.io 4.8 +
// @socket.io/redis-adapter 8.3) between two Go replicas; every scenario is
// driven from each replica, so each feature works in both directions. The
// socket in the "vip" room lives on the Node replica, so Go-initiated
// socketsJoin and disconnectSockets act on a Node socket. The classic run
// adds an @socket.io/redis-emitter; the sharded run uses
// createShardedAdapter.
func TestMixedNodeAndGo(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"classic", "sharded"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			needNode(t)
			r := newRedis(t)
			s := []*server{
				startGo(t, r.URL(), mode, "go1"),
				startNode(t, r.URL(), mode, "node1"),
				startGo(t, r.URL(), mode, "go2"),
			}
			waitServers(t, r.Addr(), mode, 3)
			runDriver(t, r.URL(), mode, mode == "classic", s...)
		})
	}
}

func get(u string) error {
	resp, err := http.Get(u) //nolint:gosec // loopback test server
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestRedisRestart kills redis-server under two replicas with a client
// listening on the second, keeps publishing from the first (a Go replica),
// starts Redis again and measures how long cross-replica delivery takes to
// resume. The second replica is Go, or Node in the mixed case.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		node bool
	}{{"classic", false}, {"sharded", false}, {"classic", true}} {
		name := tc.mode
		if tc.node {
			name += "-go-to-node"
		}
		mode := tc.mode
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			needNode(t)
			r := newRedis(t)
			a := startGo(t, r.URL(), mode, "go1")
			var b *server
			if tc.node {
				b = startNode(t, r.URL(), mode, "node1")
			} else {
				b = startGo(t, r.URL(), mode, "go2")
			}
			waitServers(t, r.Addr(), mode, 2)
			l := listen(t, b.URL, "room")
			if mode == "sharded" {
				waitChannel(t, r.Addr(), "socket.io#/#room#", 1)
			}

			emit := func(s *server, event string) error {
				return get(s.URL + "/emit?" + url.Values{"room": {"room"}, "event": {event}}.Encode())
			}
			if err := emit(a, "before"); err != nil {
				t.Fatal(err)
			}
			waitEvent(t, l, "recv before", 5*time.Second)

			r.Stop()
			// both replicas keep serving while Redis is away
			for i := range 5 {
				if err := emit(a, fmt.Sprintf("during-%d", i)); err != nil {
					t.Fatalf("replica a failed while Redis was down: %v", err)
				}
				if !tc.node {
					if err := emit(b, "local-during"); err != nil {
						t.Fatalf("replica b failed while Redis was down: %v", err)
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !tc.node {
				waitEvent(t, l, "recv local-during", 5*time.Second)
			}

			if err := r.Start(); err != nil {
				t.Fatal(err)
			}
			back := time.Now()
			deadline := back.Add(10 * time.Second)
			at := emitUntil(t, l, "after", func() bool { return time.Now().After(deadline) },
				func(i int) error { return emit(a, fmt.Sprintf("after-%d", i)) })
			if at.IsZero() {
				t.Fatal("cross-replica delivery did not resume within 10s")
			}
			gap := at.Sub(back)
			t.Logf("%s: cross-replica delivery resumed %v after redis-server was back", name, gap)
			if gap > 2*time.Second {
				t.Errorf("delivery resumed after %v, want within 2s", gap)
			}
			for _, s := range []*server{a, b} {
				if s.cmd.ProcessState != nil {
					t.Errorf("%s exited", s.Name)
				}
			}
		})
	}
}

func waitEvent(t *testing.T, l *listener, want string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-l.events:
			if !ok {
				t.Fatalf("listener exited before %q", want)
			}
			if ev == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %q within %v", want, d)
		}
	}
}
