package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
)

// streamsNode is one replica in streams mode on the shared redis-server,
// isolated by its prefix (which is also the stream name).
type streamsNode struct {
	c  *Cluster
	ns *fakeNS
	ad *streamsAdapter
}

func newStreamsNode(t *testing.T, prefix string, window time.Duration) *streamsNode {
	t.Helper()
	srv := needRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ns := newFakeNS("/")
	c, ad := startAdapter(ctx, t, Config{URL: srv.URL(), Mode: ModeStreams, Prefix: prefix, RecoveryWindow: window,
		RequestTimeout: 2 * time.Second, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}, ns)
	ns.ad = ad
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return &streamsNode{c: c, ns: ns, ad: ad.(*streamsAdapter)}
}

func streamsCluster(t *testing.T, n int, window time.Duration) []*streamsNode {
	t.Helper()
	prefix := "st" + randomUID(8)
	nodes := make([]*streamsNode, n)
	for i := range nodes {
		nodes[i] = newStreamsNode(t, prefix, window)
	}
	for _, nd := range nodes {
		eventually(t, "server count", func() bool {
			c, err := nd.ad.ServerCount(context.Background())
			return err == nil && c == n
		})
	}
	return nodes
}

func rdb(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: needRedis(t).Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// received returns what a socket got: for each event, its name, its
// arguments as JSON and its offset (the trailing string, "" if none).
type got struct {
	name   string
	args   []string
	offset string
}

func receivedBy(s *fakeSocket, withOffset bool) []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []got
	for _, p := range s.packets {
		var g got
		for i, a := range p.Args {
			raw, _ := json.Marshal(a)
			if r, ok := a.(json.RawMessage); ok {
				raw = r
			}
			if i == 0 {
				_ = json.Unmarshal(raw, &g.name)
				continue
			}
			if withOffset && i == len(p.Args)-1 {
				_ = json.Unmarshal(raw, &g.offset)
				continue
			}
			g.args = append(g.args, string(raw))
		}
		out = append(out, g)
	}
	return out
}

// TestStreamsEntryFormat: a broadcast is one stream entry with the fields
// of the Node adapter, and every replica (the sender too) delivers it with
// the entry id as offset.
func TestStreamsEntryFormat(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 2, time.Minute)
	a := nodes[0].ns.connect("sockA", "room1")
	b := nodes[1].ns.connect("sockB", "room1")
	if err := nodes[0].ad.Broadcast(context.Background(), event("hello", json.RawMessage(`1`)), adapter.BroadcastOptions{Rooms: []string{"room1"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery", func() bool { return len(a.events()) == 1 && len(b.events()) == 1 })
	entries, err := rdb(t).XRange(context.Background(), nodes[0].ad.core.stream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("XRANGE = %v, %v", entries, err)
	}
	e := entries[0]
	want := map[string]any{"uid": nodes[0].ad.uid, "nsp": "/", "type": "3",
		"data": `{"packet":{"type":2,"data":["hello",1]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}`}
	if fmt.Sprint(e.Values) != fmt.Sprint(want) {
		t.Errorf("entry fields\n got %v\nwant %v", e.Values, want)
	}
	for _, s := range []*fakeSocket{a, b} {
		g := receivedBy(s, true)[0]
		if g.name != "hello" || len(g.args) != 1 || g.args[0] != "1" || g.offset != e.ID {
			t.Errorf("%s got %+v, want hello(1) with offset %s", s.id, g, e.ID)
		}
	}
}

// TestStreamsNoOffsetWithoutRecovery: with a zero window events carry no
// offset and no session is stored.
func TestStreamsNoOffsetWithoutRecovery(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 2, 0)
	s := nodes[1].ns.connect("s", "r")
	_ = nodes[0].ad.Broadcast(context.Background(), event("e", json.RawMessage(`"x"`)), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "delivery", func() bool { return len(s.events()) == 1 })
	if g := receivedBy(s, false)[0]; len(g.args) != 1 || g.args[0] != `"x"` {
		t.Errorf("got %+v, want one argument", g)
	}
	if sess, err := nodes[0].ad.RestoreSession(context.Background(), "pid", "1-0"); sess != nil || err != nil {
		t.Errorf("RestoreSession = %v, %v", sess, err)
	}
}

// TestStreamsRecoveryAcrossNodes: a session persisted on one replica is
// restored on another with its rooms and data and exactly the events it
// missed (room-filtered), once.
func TestStreamsRecoveryAcrossNodes(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 3, time.Minute)
	ctx := context.Background()
	a, c := nodes[0], nodes[2]
	s := a.ns.connect("sid0000000000000001", "room1")
	_ = nodes[1].ad.Broadcast(ctx, event("before"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "first event", func() bool { return len(s.events()) == 1 })
	offset := receivedBy(s, true)[0].offset
	// the transport closes: the socket layer persists the session, then leaves
	if err := a.ad.PersistSession(ctx, &adapter.Session{SID: s.id, PID: "pid1", Rooms: a.ad.SocketRooms(s.id), Data: map[string]any{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	a.ns.mu.Lock()
	delete(a.ns.sockets, s.id)
	a.ns.mu.Unlock()
	a.ad.DelAll(s.id)
	probe := nodes[0].ns.connect("probe")
	_ = nodes[1].ad.Broadcast(ctx, event("missed", json.RawMessage(`2`)), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	_ = nodes[1].ad.Broadcast(ctx, event("notForYou"), adapter.BroadcastOptions{Rooms: []string{"other"}})
	_ = nodes[1].ad.Broadcast(ctx, event("excluded"), adapter.BroadcastOptions{Except: []string{"room1"}})
	_ = nodes[1].ad.Broadcast(ctx, event("all", json.RawMessage(`3`)), adapter.BroadcastOptions{})
	eventually(t, "broadcasts appended", func() bool { return len(probe.events()) == 2 })

	var sess *adapter.Session
	eventually(t, "session stored", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid1").Result()
		return n == 1
	})
	sess, err := c.ad.RestoreSession(ctx, "pid1", offset)
	if err != nil || sess == nil {
		t.Fatalf("RestoreSession = %v, %v", sess, err)
	}
	if sess.SID != s.id || sess.PID != "pid1" || !sameSet(sess.Rooms, []string{s.id, "room1"}) {
		t.Errorf("session = %+v", sess)
	}
	if raw, ok := sess.Data.(json.RawMessage); !ok || string(raw) != `{"n":1}` {
		t.Errorf("data = %#v", sess.Data)
	}
	r := c.ns.connect(sess.SID, sess.Rooms...)
	evs := receivedBy(r, true)
	if len(evs) != 2 || evs[0].name != "missed" || evs[1].name != "all" || evs[0].offset == "" || evs[1].offset == "" {
		t.Fatalf("restored socket got %+v, want missed and all with offsets", evs)
	}
	// later events reach it once
	_ = nodes[1].ad.Broadcast(ctx, event("after"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "after", func() bool { return len(r.events()) == 3 })
	if n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid1").Result(); n != 0 {
		t.Error("the session key outlived its restore")
	}
	if again, _ := nodes[1].ad.RestoreSession(ctx, "pid1", offset); again != nil {
		t.Error("a session was restored twice")
	}
}

// TestStreamsRestoreRefusals: unknown pid, malformed or trimmed offsets.
func TestStreamsRestoreRefusals(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 1, time.Minute)
	ctx := context.Background()
	for _, tc := range []struct{ name, pid, offset string }{
		{"unknown pid", "nope", "1-0"},
		{"malformed offset", "p1", "abc"},
		{"offset not in the stream", "p2", "1-0"},
	} {
		if tc.pid != "nope" {
			_ = nodes[0].ad.PersistSession(ctx, &adapter.Session{SID: "s-" + tc.pid, PID: tc.pid, Rooms: []string{"s-" + tc.pid}})
			eventually(t, "session stored", func() bool {
				n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+tc.pid).Result()
				return n == 1
			})
		}
		if sess, err := nodes[0].ad.RestoreSession(ctx, tc.pid, tc.offset); sess != nil || err != nil {
			t.Errorf("%s: RestoreSession = %+v, %v", tc.name, sess, err)
		}
	}
}

// TestStreamsTrackedSessionSurvivesACrash: a replica that dies without
// persisting anything (no disconnect handling at all) leaves the sessions
// it tracked in Redis; another replica recovers them.
func TestStreamsTrackedSessionSurvivesACrash(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 2, time.Minute)
	ctx := context.Background()
	a, b := nodes[0], nodes[1]
	s := a.ns.connect("sid0000000000000002", "room1")
	a.ad.TrackSession(s.id, "pid2", map[string]any{"user": "u"})
	s.Join("room2") // a later change is written too
	_ = b.ad.Broadcast(ctx, event("e1"), adapter.BroadcastOptions{Rooms: []string{"room2"}})
	eventually(t, "e1", func() bool { return len(s.events()) == 1 })
	offset := receivedBy(s, true)[0].offset
	eventually(t, "tracked session with room2", func() bool {
		raw, err := rdb(t).Get(ctx, wire.DefaultSessionKeyPrefix+"pid2").Result()
		if err != nil {
			return false
		}
		ws, err := wire.DecodeSession(raw)
		return err == nil && has(ws.Rooms, "room2")
	})
	// "kill" a: it stops without any DelAll/PersistSession
	_ = a.ad.Close()
	_ = a.c.Close()
	_ = b.ad.Broadcast(ctx, event("e2"), adapter.BroadcastOptions{Rooms: []string{"room2"}})
	sess, err := b.ad.RestoreSession(ctx, "pid2", offset)
	if err != nil || sess == nil {
		t.Fatalf("RestoreSession after the crash = %v, %v", sess, err)
	}
	r := b.ns.connect(sess.SID, sess.Rooms...)
	eventually(t, "e2 after recovery", func() bool { return len(r.events()) == 1 })
	if g := receivedBy(r, true); g[0].name != "e2" {
		t.Errorf("got %+v", g)
	}
	// a clean, non-recoverable disconnect deletes the tracked session
	b.ad.TrackSession(r.id, "pid2", nil)
	eventually(t, "tracked again", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid2").Result()
		return n == 1
	})
	r.Disconnect(true)
	eventually(t, "deleted on clean disconnect", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid2").Result()
		return n == 0
	})
}

// TestStreamsRestoreUnderLoad: while a publisher on another replica emits a
// numbered sequence, sockets disconnect and are restored over and over; each
// ends with every number exactly once, in order (the fence closes the gap
// between the XRANGE replay and the join).
func TestStreamsRestoreUnderLoad(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 3, time.Minute)
	ctx := context.Background()
	pub := nodes[0]
	const total, clients = 400, 4
	socks := make([]*fakeSocket, clients)
	where := make([]int, clients) // index of the node holding socks[i]
	for i := range socks {
		where[i] = 1 + i%2
		socks[i] = nodes[where[i]].ns.connect(fmt.Sprintf("sid%017d", i), "seq")
	}
	// history[i] accumulates what client i received over its incarnations
	history := make([][]got, clients)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := range total {
			_ = pub.ad.Broadcast(ctx, event("n", json.RawMessage(strconv.Itoa(n))), adapter.BroadcastOptions{Rooms: []string{"seq"}})
			if n%20 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	for round := 0; round < 6; round++ {
		for i, s := range socks {
			evs := receivedBy(s, true)
			if len(evs) == 0 {
				continue
			}
			home := nodes[where[i]]
			where[i] = 3 - where[i]
			next := nodes[where[i]]
			pid := fmt.Sprintf("pid-%d-%d", i, round)
			_ = home.ad.PersistSession(ctx, &adapter.Session{SID: s.id, PID: pid, Rooms: home.ad.SocketRooms(s.id)})
			home.ns.mu.Lock()
			delete(home.ns.sockets, s.id)
			home.ns.mu.Unlock()
			home.ad.DelAll(s.id)
			history[i] = append(history[i], receivedBy(s, true)...)
			offset := history[i][len(history[i])-1].offset
			var sess *adapter.Session
			eventually(t, "restore", func() bool {
				var err error
				sess, err = next.ad.RestoreSession(ctx, pid, offset)
				return err == nil && sess != nil
			})
			socks[i] = next.ns.connect(sess.SID, sess.Rooms...)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	for i, s := range socks {
		eventually(t, "tail", func() bool {
			return len(history[i])+len(receivedBy(s, true)) >= total
		})
		all := append(history[i], receivedBy(s, true)...)
		if len(all) != total {
			t.Errorf("client %d received %d events, want %d", i, len(all), total)
		}
		for n, g := range all {
			if n >= total || g.args[0] != strconv.Itoa(n) {
				t.Fatalf("client %d: event %d is %v (want %d exactly once, in order)", i, n, g.args, n)
			}
		}
	}
}

// TestStreamsMalformedEntries: entries the adapter cannot decode are
// skipped; the replica keeps following the stream.
func TestStreamsMalformedEntries(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 1, time.Minute)
	ctx := context.Background()
	s := nodes[0].ns.connect("s", "r")
	stream := nodes[0].ad.core.stream
	for _, vals := range [][]string{
		{"uid", "x", "nsp", "/", "type", "3", "data", "{not json"},
		{"uid", "x", "nsp", "/", "type", "3", "data", "!!!"},
		{"uid", "x", "nsp", "/", "type", "x"},
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":"x"}}`},
		// decodable, but not an EVENT a client accepts
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":[]},"opts":{"rooms":[],"except":[],"flags":{}}}`},
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":["connect"]},"opts":{"rooms":[],"except":[],"flags":{}}}`},
		{"nothing", "here"},
	} {
		if err := rdb(t).XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: vals}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_ = nodes[0].ad.Broadcast(ctx, event("ok"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "delivery after garbage", func() bool { return len(s.events()) == 1 })
}

// TestStreamsReaderSurvivesRedisRestart: the reader reconnects and resumes.
func TestStreamsReaderSurvivesRedisRestart(t *testing.T) {
	t.Parallel()
	if shared == nil {
		t.Skip("redis-server not installed")
	}
	srv := testenv.RedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ns := newFakeNS("/")
	_, ad := startAdapter(ctx, t, Config{URL: srv.URL(), Mode: ModeStreams, RecoveryWindow: time.Minute,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, ns)
	ns.ad = ad
	s := ns.connect("s", "r")
	_ = ad.Broadcast(context.Background(), event("one"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "one", func() bool { return len(s.events()) == 1 })
	srv.Stop()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.events()) < 2 && time.Now().Before(deadline) {
		_ = ad.Broadcast(context.Background(), event("two"), adapter.BroadcastOptions{Rooms: []string{"r"}})
		time.Sleep(100 * time.Millisecond)
	}
	if evs := s.events(); len(evs) < 2 || evs[1] != "two" {
		t.Fatalf("after the restart got %v", evs)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !has(b, x) {
			return false
		}
	}
	return true
}

// TestStreamsTrimByAge: with a recovery window the stream keeps the
// entries of the window (MINID trimming on the stream's clock), not a fixed
// count; without, it is capped like Node's (MAXLEN ~ 10000).
func TestStreamsTrimByAge(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 1, 200*time.Millisecond)
	ctx := context.Background()
	s := nodes[0].ns.connect("s", "r")
	for i := range 600 {
		_ = nodes[0].ad.Broadcast(ctx, event("old", json.RawMessage(strconv.Itoa(i))), adapter.BroadcastOptions{Rooms: []string{"r"}})
	}
	eventually(t, "old entries delivered", func() bool { return len(s.events()) == 600 })
	stream := nodes[0].ad.core.stream
	if n, _ := rdb(t).XLen(ctx, stream).Result(); n < 600 {
		t.Fatalf("XLEN = %d right after 600 broadcasts", n)
	}
	time.Sleep(1500 * time.Millisecond) // > window + margin
	_ = nodes[0].ad.Broadcast(ctx, event("new"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "new delivered", func() bool { return len(s.events()) == 601 })
	_ = nodes[0].ad.Broadcast(ctx, event("new2"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "trimmed", func() bool {
		n, _ := rdb(t).XLen(ctx, stream).Result()
		return n < 600
	})
	args := (&streamsCore{c: &Cluster{cfg: Config{}}}).trimArgs()
	if args.MaxLen != StreamMaxLen || args.MinID != "" {
		t.Errorf("without recovery: %+v", args)
	}
}

// TestStreamsNoRestoreOverALiveSocket: a tracked session whose socket is
// still connected on the restoring replica is not restored there.
func TestStreamsNoRestoreOverALiveSocket(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 1, time.Minute)
	ctx := context.Background()
	s := nodes[0].ns.connect("sid0000000000000003", "r")
	nodes[0].ad.TrackSession(s.id, "pid3", nil)
	_ = nodes[0].ad.Broadcast(ctx, event("e"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "e", func() bool { return len(s.events()) == 1 })
	eventually(t, "tracked", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid3").Result()
		return n == 1
	})
	if sess, err := nodes[0].ad.RestoreSession(ctx, "pid3", receivedBy(s, true)[0].offset); sess != nil || err != nil {
		t.Errorf("RestoreSession over a live socket = %+v, %v", sess, err)
	}
}
