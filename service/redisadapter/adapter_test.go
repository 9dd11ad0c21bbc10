package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/redistest"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// shared is the package's redis-server; tests isolate themselves with a
// unique channel prefix. nil when redis-server is absent outside CI.
var shared *testenv.Redis

func TestMain(m *testing.M) {
	flag.Parse()
	var srv *testenv.Redis
	var err error
	if testing.Short() {
		err = testenv.ErrNoRedis // -short: unit tests only
	} else {
		srv, err = testenv.StartRedis()
	}
	switch {
	case errors.Is(err, testenv.ErrNoRedis):
		// Redis tests skip themselves (needRedis)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
		shared = srv
	}
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("time.Sleep")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func needRedis(t *testing.T) *testenv.Redis {
	t.Helper()
	if shared == nil {
		t.Skip("redis-server not installed, or -short")
	}
	return shared
}

var modes = []Mode{ModeClassic, ModeSharded, ModeStreams}

type node struct {
	c  *Cluster
	ns *fakeNS
	ad adapter.Adapter
}

func newNode(t *testing.T, url string, mode Mode, prefix string) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ns := newFakeNS("/")
	c, ad := startAdapter(ctx, t, Config{URL: url, Mode: mode, Prefix: prefix, RequestTimeout: 2 * time.Second,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}, ns)
	ns.ad = ad
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return &node{c: c, ns: ns, ad: ad}
}

// startAdapter starts a Cluster with cfg and its adapter for ns; both are
// closed at cleanup.
func startAdapter(ctx context.Context, tb testing.TB, cfg Config, ns adapter.Namespace) (*Cluster, adapter.Adapter) {
	tb.Helper()
	c, err := New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ad, err := c.NewAdapter(ns)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = ad.Close()
		_ = c.Close()
	})
	return c, ad
}

// cluster starts n nodes and waits until each counts all of them.
func cluster(t *testing.T, mode Mode, n int) []*node {
	t.Helper()
	srv := needRedis(t)
	prefix := "t" + randomUID(8)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = newNode(t, srv.URL(), mode, prefix)
	}
	for _, nd := range nodes {
		eventually(t, "server count", func() bool {
			c, err := nd.ad.ServerCount(context.Background())
			return err == nil && c == n
		})
	}
	return nodes
}

func event(name string, args ...any) *parser.Packet {
	raw, _ := json.Marshal(name)
	return &parser.Packet{Type: parser.Event, Args: append([]any{json.RawMessage(raw)}, args...)}
}

func TestBroadcastAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			n := cluster(t, mode, 3)
			a1 := n[0].ns.connect("a1AAAAAAAAAAAAAAAAAA", "room")
			b1 := n[1].ns.connect("b1AAAAAAAAAAAAAAAAAA", "room")
			b2 := n[1].ns.connect("b2AAAAAAAAAAAAAAAAAA")
			c1 := n[2].ns.connect("c1AAAAAAAAAAAAAAAAAA", "room", "vip")
			// the dynamic room subscriptions of sharded mode are taken asynchronously
			waitRoomSubs(t, n, "room", "vip")

			ctx := context.Background()
			bin := []byte{1, 2, 3}
			err := n[0].ad.Broadcast(ctx, event("toRoom", json.RawMessage(`{"a":1,"b":[1.5,"x"]}`), bin),
				adapter.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"vip"}})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "b1 receives the room broadcast", func() bool { return b1.packet("toRoom") != nil })
			if a1.packet("toRoom") == nil {
				t.Error("local socket a1 missed the broadcast")
			}
			p := b1.packet("toRoom")
			if got := string(p.Args[1].(json.RawMessage)); got != `{"a":1,"b":[1.5,"x"]}` {
				t.Errorf("object argument = %s", got)
			}
			if got, ok := p.Args[2].([]byte); !ok || string(got) != string(bin) {
				t.Errorf("binary argument = %#v", p.Args[2])
			}

			// a later broadcast to everyone proves the earlier one was filtered, not late
			if err := n[0].ad.Broadcast(ctx, event("all"), adapter.BroadcastOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*fakeSocket{a1, b1, b2, c1} {
				eventually(t, s.id+" receives the global broadcast", func() bool { return s.packet("all") != nil })
			}
			if c1.packet("toRoom") != nil {
				t.Error("c1 is in the excepted room but got the broadcast")
			}
			if b2.packet("toRoom") != nil {
				t.Error("b2 is not in the room but got the broadcast")
			}
			if got := len(b1.events()); got != 2 {
				t.Errorf("b1 got %d events (%v), want 2 (no duplicates)", got, b1.events())
			}

			// local broadcasts stay local
			if err := n[1].ad.Broadcast(ctx, event("local"), adapter.BroadcastOptions{Flags: adapter.BroadcastFlags{Local: true}}); err != nil {
				t.Fatal(err)
			}
			if err := n[1].ad.Broadcast(ctx, event("after-local"), adapter.BroadcastOptions{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a1 receives after-local", func() bool { return a1.packet("after-local") != nil })
			if a1.packet("local") != nil {
				t.Error("a Local broadcast reached another node")
			}
			if b2.packet("local") == nil {
				t.Error("a Local broadcast missed its own node")
			}
		})
	}
}

func TestBroadcastWithAckAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			n := cluster(t, mode, 3)
			socks := []*fakeSocket{
				n[0].ns.connect("a1AAAAAAAAAAAAAAAAAA"),
				n[1].ns.connect("b1AAAAAAAAAAAAAAAAAA"),
				n[1].ns.connect("b2AAAAAAAAAAAAAAAAAA"),
				n[2].ns.connect("c1AAAAAAAAAAAAAAAAAA"),
			}
			var mu sync.Mutex
			var counts []int
			var acks [][]any
			err := n[0].ad.BroadcastWithAck(context.Background(), event("q", 1),
				adapter.BroadcastOptions{Flags: adapter.BroadcastFlags{Timeout: 3 * time.Second}},
				func(c int) { mu.Lock(); counts = append(counts, c); mu.Unlock() },
				func(a []any) { mu.Lock(); acks = append(acks, a); mu.Unlock() })
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range socks {
				eventually(t, s.id+" receives q", func() bool { return s.packet("q") != nil })
				if got := s.ackAll(json.RawMessage(fmt.Sprintf(`"answer-%d"`, i))); got != 1 {
					t.Fatalf("%s registered %d acks", s.id, got)
				}
			}
			eventually(t, "3 client counts and 4 acks", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(counts) == 3 && len(acks) == 4
			})
			mu.Lock()
			defer mu.Unlock()
			sort.Ints(counts)
			if fmt.Sprint(counts) != "[1 1 2]" {
				t.Errorf("client counts = %v, want [1 1 2]", counts)
			}
			var got []string
			for _, a := range acks {
				got = append(got, string(a[0].(json.RawMessage)))
			}
			sort.Strings(got)
			if fmt.Sprint(got) != `["answer-0" "answer-1" "answer-2" "answer-3"]` {
				t.Errorf("acks = %v", got)
			}
		})
	}
}

func TestFetchSocketsAndRemoteOps(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			n := cluster(t, mode, 3)
			ctx := context.Background()
			n[0].ns.connect("a1AAAAAAAAAAAAAAAAAA", "room")
			b1 := n[1].ns.connect("b1AAAAAAAAAAAAAAAAAA", "room")
			c1 := n[2].ns.connect("c1AAAAAAAAAAAAAAAAAA", "room", "vip")
			c2 := n[2].ns.connect("c2AAAAAAAAAAAAAAAAAA")

			got, err := n[0].ad.FetchSockets(ctx, adapter.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"vip"}})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
				if s.ID == b1.id {
					if string(s.Data.(json.RawMessage)) != `{"user":"b1AAAAAAAAAAAAAAAAAA"}` {
						t.Errorf("remote data = %s", s.Data)
					}
					if string(s.Handshake.Auth) != `{"token":"t"}` || s.Handshake.Address != "127.0.0.1" {
						t.Errorf("remote handshake = %+v", s.Handshake)
					}
					if !has(s.Rooms, "room") {
						t.Errorf("remote rooms = %v", s.Rooms)
					}
				}
			}
			sort.Strings(ids)
			if fmt.Sprint(ids) != "[a1AAAAAAAAAAAAAAAAAA b1AAAAAAAAAAAAAAAAAA]" {
				t.Errorf("fetched %v", ids)
			}

			// socketsJoin across nodes
			if err := n[0].ad.AddSockets(ctx, adapter.BroadcastOptions{Rooms: []string{"vip"}}, []string{"joined"}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "c1 joins", func() bool { return has(n[2].ad.SocketRooms(c1.id), "joined") })
			if has(n[1].ad.SocketRooms(b1.id), "joined") {
				t.Error("b1 is not in vip but joined")
			}
			if err := n[1].ad.DelSockets(ctx, adapter.BroadcastOptions{}, []string{"joined"}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "c1 leaves", func() bool { return !has(n[2].ad.SocketRooms(c1.id), "joined") })

			if err := n[0].ad.DisconnectSockets(ctx, adapter.BroadcastOptions{Rooms: []string{"vip"}}, true); err != nil {
				t.Fatal(err)
			}
			eventually(t, "c1 disconnected", c1.isDisconnected)
			if c2.isDisconnected() || b1.isDisconnected() {
				t.Error("a socket outside vip was disconnected")
			}

			if ca, ok := n[0].ad.(*classicAdapter); ok {
				rooms, err := ca.AllRooms(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !has(rooms, "room") || !has(rooms, c2.id) {
					t.Errorf("allRooms = %v", rooms)
				}
			}
		})
	}
}

func TestServerSideEmit(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			n := cluster(t, mode, 3)
			for i, nd := range n {
				nd.ns.sseAck = func(args []any) []any { return []any{fmt.Sprintf("pong-%d", i)} }
			}
			ctx := context.Background()
			if err := n[0].ad.ServerSideEmit(ctx, []any{"hello", 1}); err != nil {
				t.Fatal(err)
			}
			for _, nd := range n[1:] {
				eventually(t, "server-side emit", func() bool { return len(nd.ns.sseCalls()) == 1 })
				c := nd.ns.sseCalls()[0]
				if c.hasAck || string(c.args[0].(json.RawMessage)) != `"hello"` || string(c.args[1].(json.RawMessage)) != "1" {
					t.Errorf("got %+v", c)
				}
			}
			if len(n[0].ns.sseCalls()) != 0 {
				t.Error("the sender received its own server-side emit")
			}
			res, err := n[0].ad.ServerSideEmitWithAck(ctx, []any{"ping"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				got = append(got, string(r[0].(json.RawMessage)))
			}
			sort.Strings(got)
			if fmt.Sprint(got) != `["pong-1" "pong-2"]` {
				t.Errorf("responses = %v", got)
			}
		})
	}
}

// TestRequestTimeout: a node that never answers makes serverSideEmitWithAck
// fail with ErrTimeout and return what it got.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	srv := needRedis(t)
	prefix := "t" + randomUID(8)
	a := newNode(t, srv.URL(), ModeClassic, prefix)
	a.c.cfg.RequestTimeout = time.Second
	b := newNode(t, srv.URL(), ModeClassic, prefix)
	b.ns.sseAck = func([]any) []any { return []any{"ok"} }
	// a silent third "server": a raw subscriber of the request channel
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	ps := raw.Subscribe(context.Background(), prefix+"-request#/#")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three subscribers", func() bool {
		n, err := a.ad.ServerCount(context.Background())
		return err == nil && n == 3
	})
	res, err := a.ad.ServerSideEmitWithAck(context.Background(), []any{"ping"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if len(res) != 1 {
		t.Errorf("got %d responses, want the 1 that answered", len(res))
	}
}

// TestMalformedMessages: garbage on every channel is counted and ignored,
// and the node keeps working.
func TestMalformedMessages(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			n := cluster(t, mode, 2)
			b1 := n[1].ns.connect("b1AAAAAAAAAAAAAAAAAA", "room")
			waitRoomSubs(t, n, "room")
			raw := redis.NewClient(&redis.Options{Addr: needRedis(t).Addr()})
			defer raw.Close()
			prefix := n[1].c.cfg.Prefix
			ctx := context.Background()
			garbage := []string{"", "{", "\x93\xa1x", "\xc1", `{"type":3}`, `{"type":"x"}`, "\x92\xa6abcdef\x80",
				`{"uid":"x","type":7}`, `{"type":3,"data":{"packet":{"type":2,"data":"notarray"},"opts":{}},"uid":"x","nsp":"/"}`,
				"\xdd\xff\xff\xff\xff", "\x91\x91\x91\x91\x91\x91\x91\x91"}
			chans := []string{prefix + "#/#", prefix + "#/#room#", prefix + "-request#/#", prefix + "-response#/#"}
			for _, g := range garbage {
				for _, ch := range chans {
					if mode == ModeSharded {
						raw.SPublish(ctx, ch, g)
					} else {
						raw.Publish(ctx, ch, g)
					}
				}
			}
			if err := n[0].ad.Broadcast(ctx, event("still-works"), adapter.BroadcastOptions{Rooms: []string{"room"}}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "delivery after garbage", func() bool { return b1.packet("still-works") != nil })
			if got := counterValue(n[1].c.m.malformed); got == 0 {
				t.Error("malformed messages were not counted")
			}
		})
	}
}

// TestRedisRestart: with Redis gone, local delivery goes on and nothing
// crashes; after Redis returns, cross-node delivery resumes by itself.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			srv := testenv.RedisServer(t) // own server: this test stops it
			prefix := "r" + randomUID(6)
			a := newNode(t, srv.URL(), mode, prefix)
			b := newNode(t, srv.URL(), mode, prefix)
			a1 := a.ns.connect("a1AAAAAAAAAAAAAAAAAA", "room")
			b1 := b.ns.connect("b1AAAAAAAAAAAAAAAAAA", "room")
			waitRoomSubs(t, []*node{a, b}, "room")
			ctx := context.Background()
			_ = a.ad.Broadcast(ctx, event("before"), adapter.BroadcastOptions{Rooms: []string{"room"}})
			eventually(t, "delivery before restart", func() bool { return b1.packet("before") != nil })

			srv.Stop()
			eventually(t, "subscription down", func() bool { return !a.c.Connected() && !b.c.Connected() })
			_ = a.ad.Broadcast(ctx, event("during"), adapter.BroadcastOptions{Rooms: []string{"room"}})
			if a1.packet("during") == nil {
				t.Error("local delivery stopped while Redis is down")
			}
			if !a.c.Ready() {
				t.Error("readiness dropped because Redis blinked")
			}

			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			back := time.Now()
			var gap time.Duration
			for i := 0; ; i++ {
				name := fmt.Sprintf("probe-%d", i)
				_ = a.ad.Broadcast(ctx, event(name), adapter.BroadcastOptions{Rooms: []string{"room"}})
				time.Sleep(10 * time.Millisecond)
				if len(b1.events()) > 1 {
					gap = time.Since(back)
					break
				}
				if time.Since(back) > 10*time.Second {
					t.Fatal("cross-node delivery did not resume within 10s")
				}
			}
			t.Logf("%s: cross-node delivery resumed %v after redis-server was back", mode, gap)
			if got := counterValue(b.c.m.reconnects); got < 1 {
				t.Errorf("reconnects metric = %v", got)
			}
		})
	}
}

func TestParseModeAndURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Mode
		ok   bool
	}{{"", ModeClassic, true}, {"classic", ModeClassic, true}, {"Sharded", ModeSharded, true}, {"streams", ModeStreams, true}, {"x", "", false}} {
		got, err := ParseMode(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMode(%q) = %q, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		url  string
		kind string
	}{
		{"redis://:pw@127.0.0.1:6379/2", "*redis.Client"},
		{"rediss://user:pw@example.com:6380/0", "*redis.Client"},
		{"redis://h1:7000,h2:7001", "*redis.ClusterClient"},
		{"redis://h1:7000?cluster=true", "*redis.ClusterClient"},
		{"redis-sentinel://:pw@s1:26379,s2:26379/mymaster/1", "*redis.Client"},
	} {
		c, err := NewClient(tc.url)
		if err != nil {
			t.Errorf("NewClient(%q): %v", tc.url, err)
			continue
		}
		if got := fmt.Sprintf("%T", c); got != tc.kind {
			t.Errorf("NewClient(%q) = %s, want %s", tc.url, got, tc.kind)
		}
		_ = c.Close()
	}
	if c, err := NewClient("redis://:pw@h1:7000,h2:7001,h3:7002?dial_timeout=2s"); err == nil {
		opt := c.(*redis.ClusterClient).Options()
		if fmt.Sprint(opt.Addrs) != "[h1:7000 h2:7001 h3:7002]" || opt.Password != "pw" {
			t.Errorf("cluster options: addrs=%v pw=%q", opt.Addrs, opt.Password)
		}
		_ = c.Close()
	} else {
		t.Error(err)
	}
	if _, err := NewClient("http://x"); err == nil {
		t.Error("NewClient accepted http://")
	}
	if c, err := NewClient("rediss://u:p@h:1/3"); err == nil {
		opt := c.(*redis.Client).Options()
		if opt.TLSConfig == nil || opt.Password != "p" || opt.DB != 3 {
			t.Errorf("rediss options: tls=%v pw=%q db=%d", opt.TLSConfig != nil, opt.Password, opt.DB)
		}
		_ = c.Close()
	}
}

// counterValue reads a counter through a throwaway registry.
func counterValue(c prometheus.Counter) float64 {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return -1
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		return -1
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

// TestRedisCluster runs both modes on a real three-master Redis Cluster,
// through a cluster REDIS_URL: in sharded mode the namespace and room
// channels hash to different masters, so this covers per-slot
// subscriptions and SPUBLISH routing.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	rc := redistest.StartCluster(t, 3)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			prefix := "c" + randomUID(6)
			n := []*node{newNode(t, rc.URL(), mode, prefix), newNode(t, rc.URL(), mode, prefix), newNode(t, rc.URL(), mode, prefix)}
			for _, nd := range n {
				eventually(t, "server count on the cluster", func() bool {
					c, err := nd.ad.ServerCount(context.Background())
					return err == nil && c == 3
				})
			}
			rooms := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
			slots := map[int]bool{}
			var socks []*fakeSocket
			for i, r := range rooms {
				slots[hashSlot(ShardedRoomChannelForTest(prefix, r))*3/16384] = true
				socks = append(socks, n[1+i%2].ns.connect(fmt.Sprintf("s%019d", i), r))
			}
			if mode == ModeSharded && len(slots) < 2 {
				t.Fatalf("test rooms all hash to one master; pick others")
			}
			waitRoomSubs(t, n, rooms...)
			ctx := context.Background()
			for _, r := range rooms {
				if err := n[0].ad.Broadcast(ctx, event("to-"+r), adapter.BroadcastOptions{Rooms: []string{r}}); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range socks {
				eventually(t, s.id+" gets its room's broadcast", func() bool { return s.packet("to-"+rooms[i]) != nil })
				if got := len(s.events()); got != 1 {
					t.Errorf("%s got %v", s.id, s.events())
				}
			}
			if mode == ModeSharded {
				n[1].c.mu.Lock()
				conns := len(n[1].c.subs)
				n[1].c.mu.Unlock()
				if conns < 2 {
					t.Errorf("sharded subscriptions use %d connection(s) on a 3-master cluster", conns)
				}
			}
			got, err := n[0].ad.FetchSockets(ctx, adapter.BroadcastOptions{})
			if err != nil || len(got) != len(socks) {
				t.Errorf("fetchSockets on the cluster: %d sockets, %v", len(got), err)
			}
			n[1].ns.sseAck = func([]any) []any { return []any{"one"} }
			n[2].ns.sseAck = func([]any) []any { return []any{"two"} }
			res, err := n[0].ad.ServerSideEmitWithAck(ctx, []any{"ping"})
			if err != nil || len(res) != 2 {
				t.Errorf("serverSideEmitWithAck on the cluster: %v, %v", res, err)
			}
		})
	}
}

// ShardedRoomChannelForTest names a room's sharded channel.
func ShardedRoomChannelForTest(prefix, room string) string { return prefix + "#/#" + room + "#" }
