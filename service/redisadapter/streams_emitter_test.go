package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
)

// emitterMsg is one message as @socket.io/redis-emitter 5.1 publishes it.
type emitterMsg struct {
	channel string
	payload []byte
}

// emitterEmit encodes emitter.to(rooms).except(except).emit(data...):
// notepack ["emitter", {type: 2, data, nsp}, {rooms, flags, except}] (the
// emitter's key order) on the room's channel when exactly one room is
// targeted. TestEmitterEncodingMatchesNode checks it against the real
// emitter's bytes.
func emitterEmit(prefix string, rooms, except []string, flags wire.Value, data ...wire.Value) emitterMsg {
	if flags.IsUndefined() {
		flags = wire.MapValue()
	}
	msg := wire.ArrayValue(
		wire.StringValue(wire.EmitterUID),
		wire.MapValue(wire.M("type", wire.IntValue(2)), wire.M("data", wire.ArrayValue(data...)), wire.M("nsp", wire.StringValue("/"))),
		wire.MapValue(wire.M("rooms", wire.StringsValue(nonNilStrings(rooms))), wire.M("flags", flags),
			wire.M("except", wire.StringsValue(nonNilStrings(except)))),
	)
	return emitterMsg{wire.BroadcastChannel(prefix, "/", rooms), wire.EncodeMsgpack(msg)}
}

// emitterRequest encodes a socketsJoin/socketsLeave/disconnectSockets or
// serverSideEmit: JSON.stringify of the same fields, which wire.Request
// writes in the emitter's order.
func emitterRequest(prefix string, r wire.Request) emitterMsg {
	return emitterMsg{wire.RequestChannel(prefix, "/"), r.Encode()}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func str(s string) wire.Value { return wire.StringValue(s) }

func (m emitterMsg) publish(t *testing.T) {
	t.Helper()
	if err := rdb(t).Publish(context.Background(), m.channel, m.payload).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestEmitterEncodingMatchesNode runs the real npm @socket.io/redis-emitter
// against the test's redis-server and checks that emitterEmit and
// emitterRequest publish the same bytes on the same channels.
func TestEmitterEncodingMatchesNode(t *testing.T) {
	t.Parallel()
	srv := needRedis(t)
	node := testenv.Node(t, "@socket.io/redis-emitter", "redis")
	prefix := "em" + randomUID(8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ps := rdb(t).PSubscribe(ctx, prefix+"*")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	script := `
const [root, url, key] = process.argv.slice(1);
const { Emitter } = require(root + "/@socket.io/redis-emitter");
const { createClient } = require(root + "/redis");
(async () => {
  const client = createClient({ url });
  await client.connect();
  const e = new Emitter(client, { key });
  e.emit("news", "hello");
  e.to("room1").emit("r", 1, { x: true }, Buffer.from([9]));
  e.to(["a", "b"]).except("c").volatile.emit("v");
  e.in("vip").socketsJoin("joined");
  e.socketsLeave(["x"]);
  e.except("vip").disconnectSockets(true);
  e.serverSideEmit("sse", 1, "two");
  await client.quit();
})().catch((err) => { console.error(err); process.exit(1); });
`
	out, err := exec.CommandContext(ctx, node.Bin, "-e", script, node.Modules, srv.URL(), prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	o := func(rooms, except []string) *wire.Opts { return &wire.Opts{Rooms: rooms, Except: except} }
	want := []emitterMsg{
		emitterEmit(prefix, nil, nil, wire.Value{}, str("news"), str("hello")),
		emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("r"), wire.IntValue(1),
			wire.MapValue(wire.M("x", wire.BoolValue(true))), wire.BinaryValue([]byte{9})),
		emitterEmit(prefix, []string{"a", "b"}, []string{"c"}, wire.MapValue(wire.M("volatile", wire.BoolValue(true))), str("v")),
		emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteJoin, Opts: o([]string{"vip"}, nil), Rooms: []string{"joined"}}),
		emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteLeave, Opts: o(nil, nil), Rooms: []string{"x"}}),
		emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteDisconnect, Opts: o(nil, []string{"vip"}), Close: true}),
		emitterRequest(prefix, wire.Request{UID: wire.EmitterUID, Type: wire.ReqServerSideEmit,
			Data: wire.ArrayValue(str("sse"), wire.IntValue(1), str("two"))}),
	}
	for i, w := range want {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Channel != w.channel || m.Payload != string(w.payload) {
			t.Errorf("message %d:\n got %s %x\nwant %s %x", i, m.Channel, m.Payload, w.channel, w.payload)
		}
	}
}

// emitterReady waits until every node handles emitter broadcasts on room
// channels (its PSUBSCRIBE is applied asynchronously): a probe socket on
// each node must get a broadcast to its room.
func emitterReady(t *testing.T, nodes []*streamsNode) {
	t.Helper()
	prefix := nodes[0].c.cfg.Prefix
	probes := make([]*fakeSocket, len(nodes))
	for i, nd := range nodes {
		probes[i] = nd.ns.connect(fmt.Sprintf("probe%015d", i), "probe-room")
	}
	eventually(t, "emitter pattern subscribed on every node", func() bool {
		emitterEmit(prefix, []string{"probe-room"}, nil, wire.Value{}, str("probe")).publish(t)
		time.Sleep(5 * time.Millisecond)
		for _, p := range probes {
			if len(p.events()) == 0 {
				return false
			}
		}
		return true
	})
	for _, p := range probes {
		p.Disconnect(true)
	}
}

// eventsOf returns the names of the events s got, without probes.
func eventsOf(s *fakeSocket) []string {
	var out []string
	for _, e := range s.events() {
		if e != "probe" {
			out = append(out, e)
		}
	}
	return out
}

// TestStreamsEmitterBroadcast: emitter broadcasts, to everyone, to one
// room (its own channel, taken by the PSUBSCRIBE), to several rooms, to a
// socket id, with except, reach each local socket of each replica exactly
// once, and nothing reaches the stream.
func TestStreamsEmitterBroadcast(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 3, time.Minute)
	emitterReady(t, nodes)
	prefix := nodes[0].c.cfg.Prefix
	a1 := nodes[0].ns.connect("a1AAAAAAAAAAAAAAAAAA", "room1")
	b1 := nodes[1].ns.connect("b1AAAAAAAAAAAAAAAAAA", "room1", "vip")
	b2 := nodes[1].ns.connect("b2AAAAAAAAAAAAAAAAAA")
	c1 := nodes[2].ns.connect("c1AAAAAAAAAAAAAAAAAA", "room1")
	for _, m := range []emitterMsg{
		emitterEmit(prefix, nil, nil, wire.Value{}, str("all"), wire.IntValue(1)),
		emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("room1"), wire.BinaryValue([]byte{1, 2})),
		emitterEmit(prefix, []string{"room1"}, []string{"vip"}, wire.Value{}, str("room1-except-vip")),
		emitterEmit(prefix, []string{"room1", "vip"}, nil, wire.Value{}, str("two-rooms")),
		emitterEmit(prefix, []string{b2.id}, nil, wire.Value{}, str("to-b2")),
		emitterEmit(prefix, nil, []string{"vip"}, wire.Value{}, str("except-vip")),
		emitterEmit(prefix, []string{"nobody"}, nil, wire.Value{}, str("to-nobody")),
		emitterEmit(prefix, nil, nil, wire.Value{}, str("end")),
	} {
		m.publish(t)
	}
	want := map[*fakeSocket][]string{
		a1: {"all", "room1", "room1-except-vip", "two-rooms", "except-vip", "end"},
		b1: {"all", "room1", "two-rooms", "end"},
		b2: {"all", "to-b2", "except-vip", "end"},
		c1: {"all", "room1", "room1-except-vip", "two-rooms", "except-vip", "end"},
	}
	for s, w := range want {
		eventually(t, s.id+" gets end", func() bool { return slices.Contains(s.events(), "end") })
		// one publisher connection: Redis delivers in publish order, so
		// everything before "end" arrived
		if got := eventsOf(s); !slices.Equal(got, w) {
			t.Errorf("%s got %v, want %v (each once)", s.id, got, w)
		}
	}
	g := receivedBy(a1, false)
	if g[0].name != "all" || !slices.Equal(g[0].args, []string{"1"}) {
		t.Errorf("all: got %+v, want all(1) without offset (no entry delivered yet)", g[0])
	}
	if p := a1.packet("room1"); p == nil || len(p.Args) != 2 || string(mustBytes(p.Args[1])) != "\x01\x02" {
		t.Errorf("room1 binary argument: %+v", p)
	}
	if n, _ := rdb(t).XLen(context.Background(), nodes[0].ad.core.stream).Result(); n != 0 {
		t.Errorf("XLEN = %d, emitter broadcasts must not reach the stream", n)
	}
	for _, nd := range nodes {
		if m := metricValue(t, nd.c.m.malformed); m != 0 {
			t.Errorf("malformed_total = %v", m)
		}
	}
}

// metricValue reads a counter.
func metricValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatalf("gather: %v", err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

func mustBytes(a any) []byte {
	b, _ := a.([]byte)
	return b
}

// TestStreamsEmitterOffsets: with recovery on, an emitter event carries
// the id of the last entry its replica delivered (so the client's offset
// stays valid); volatile ones and those without recovery carry none; the
// replica's own stream events keep their ids.
func TestStreamsEmitterOffsets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		window   time.Duration
		volatile bool
		offset   bool
	}{
		{"recovery", time.Minute, false, true},
		{"volatile", time.Minute, true, false},
		{"no recovery", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes := streamsCluster(t, 2, tc.window)
			emitterReady(t, nodes)
			ctx := context.Background()
			prefix := nodes[0].c.cfg.Prefix
			s := nodes[1].ns.connect("sAAAAAAAAAAAAAAAAAAA", "r")
			_ = nodes[0].ad.Broadcast(ctx, event("entry"), adapter.BroadcastOptions{Rooms: []string{"r"}})
			_ = nodes[0].ad.Broadcast(ctx, event("elsewhere"), adapter.BroadcastOptions{Rooms: []string{"other"}})
			var entries []redis.XMessage
			eventually(t, "two entries appended", func() bool {
				entries, _ = rdb(t).XRange(ctx, nodes[0].ad.core.stream, "-", "+").Result()
				return len(entries) == 2
			})
			eventually(t, "both entries delivered", func() bool {
				nodes[1].ad.fenceMu.Lock()
				defer nodes[1].ad.fenceMu.Unlock()
				return nodes[1].ad.delivered == entries[1].ID
			})
			flags := wire.Value{}
			if tc.volatile {
				flags = wire.MapValue(wire.M("volatile", wire.BoolValue(true)))
			}
			emitterEmit(prefix, []string{"r"}, nil, flags, str("news"), str("hello")).publish(t)
			eventually(t, "news", func() bool { return len(eventsOf(s)) == 2 })
			g := receivedBy(s, false)
			news := g[len(g)-1]
			wantArgs := []string{`"hello"`}
			if tc.offset {
				// the last entry delivered, though it was not for s: every
				// entry up to it that reaches s was written before
				wantArgs = append(wantArgs, `"`+entries[1].ID+`"`)
			}
			if news.name != "news" || !slices.Equal(news.args, wantArgs) {
				t.Errorf("news: got %+v, want args %v", news, wantArgs)
			}
		})
	}
}

// TestStreamsEmitterRequests: socketsJoin, socketsLeave, disconnectSockets
// and serverSideEmit of the emitter act on every replica once; a request
// of a classic replica (uid set, not "emitter") is not applied.
func TestStreamsEmitterRequests(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 2, time.Minute)
	prefix := nodes[0].c.cfg.Prefix
	a := nodes[0].ns.connect("aAAAAAAAAAAAAAAAAAAA", "vip")
	b := nodes[1].ns.connect("bAAAAAAAAAAAAAAAAAAA", "vip")
	c := nodes[1].ns.connect("cAAAAAAAAAAAAAAAAAAA", "plain")
	o := func(rooms, except []string) *wire.Opts { return &wire.Opts{Rooms: rooms, Except: except} }

	emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteJoin, Opts: o([]string{"vip"}, nil), Rooms: []string{"joined", "j2"}}).publish(t)
	eventually(t, "socketsJoin", func() bool {
		return sameSet(nodes[0].ad.SocketRooms(a.id), []string{a.id, "vip", "joined", "j2"}) &&
			sameSet(nodes[1].ad.SocketRooms(b.id), []string{b.id, "vip", "joined", "j2"})
	})
	emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteLeave, Opts: o(nil, nil), Rooms: []string{"j2"}}).publish(t)
	eventually(t, "socketsLeave", func() bool {
		return !has(nodes[0].ad.SocketRooms(a.id), "j2") && !has(nodes[1].ad.SocketRooms(b.id), "j2")
	})
	// a classic replica's request (its own uid) is not for streams mode
	emitterRequest(prefix, wire.Request{UID: "abcdef", Type: wire.ReqRemoteJoin, Opts: o(nil, nil), Rooms: []string{"classic"}}).publish(t)
	emitterRequest(prefix, wire.Request{UID: wire.EmitterUID, Type: wire.ReqServerSideEmit,
		Data: wire.ArrayValue(str("sse"), wire.IntValue(1))}).publish(t)
	for _, nd := range nodes {
		eventually(t, "serverSideEmit", func() bool { return len(nd.ns.sseCalls()) == 1 })
		call := nd.ns.sseCalls()[0]
		if call.hasAck || len(call.args) != 2 || string(call.args[0].(json.RawMessage)) != `"sse"` {
			t.Errorf("serverSideEmit: %+v", call)
		}
	}
	emitterRequest(prefix, wire.Request{Type: wire.ReqRemoteDisconnect, Opts: o(nil, []string{"vip"}), Close: true}).publish(t)
	eventually(t, "disconnectSockets", func() bool { return c.isDisconnected() })
	if a.isDisconnected() || b.isDisconnected() {
		t.Error("a socket in the excepted room was disconnected")
	}
	for _, s := range []*fakeSocket{a, b} {
		if has(s.ns.ad.SocketRooms(s.id), "classic") {
			t.Errorf("%s joined a room on a classic replica's request", s.id)
		}
	}
	for _, nd := range nodes {
		if n := len(nd.ns.sseCalls()); n != 1 {
			t.Errorf("serverSideEmit handled %d times on one node", n)
		}
	}
}

// TestStreamsEmitterThenRecovery: a client whose last event came from the
// emitter recovers, on another replica, exactly the stream events it
// missed — none twice, none lost. Emitter events it missed are not
// replayed (they are not in the stream).
func TestStreamsEmitterThenRecovery(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 3, time.Minute)
	emitterReady(t, nodes)
	ctx := context.Background()
	prefix := nodes[0].c.cfg.Prefix
	home, pub, next := nodes[0], nodes[1], nodes[2]
	s := home.ns.connect("sid0000000000000009", "room1")
	probe := next.ns.connect("probe", "room1")
	_ = pub.ad.Broadcast(ctx, event("e1"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "e1", func() bool { return len(eventsOf(s)) == 1 })
	emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("news"), str("hello")).publish(t)
	eventually(t, "news", func() bool { return len(eventsOf(s)) == 2 })
	got := receivedBy(s, true)
	offset := got[len(got)-1].offset
	if got[0].name != "e1" || got[1].name != "news" || offset != got[0].offset {
		t.Fatalf("got %+v, want e1 then news, news with e1's offset", got)
	}
	// the transport closes
	if err := home.ad.PersistSession(ctx, &adapter.Session{SID: s.id, PID: "pid9", Rooms: home.ad.SocketRooms(s.id)}); err != nil {
		t.Fatal(err)
	}
	home.ns.mu.Lock()
	delete(home.ns.sockets, s.id)
	home.ns.mu.Unlock()
	home.ad.DelAll(s.id)
	_ = pub.ad.Broadcast(ctx, event("e2"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("missed-news")).publish(t)
	_ = pub.ad.Broadcast(ctx, event("e3"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "probe got e1, news, e2, missed-news, e3", func() bool { return len(eventsOf(probe)) >= 5 })
	if got := eventsOf(probe); !slices.Contains(got, "e3") || !slices.Contains(got, "missed-news") || len(got) != 5 {
		t.Fatalf("probe got %v", got)
	}
	eventually(t, "session stored", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid9").Result()
		return n == 1
	})
	sess, err := next.ad.RestoreSession(ctx, "pid9", offset)
	if err != nil || sess == nil {
		t.Fatalf("RestoreSession from the emitter event's offset = %v, %v", sess, err)
	}
	r := next.ns.connect(sess.SID, sess.Rooms...)
	evs := receivedBy(r, true)
	if len(evs) != 2 || evs[0].name != "e2" || evs[1].name != "e3" {
		t.Fatalf("restored socket got %+v, want e2 and e3 once", evs)
	}
	// a later emitter event carries e3's id: the offset never goes back
	emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("after")).publish(t)
	eventually(t, "after", func() bool { return len(r.events()) == 3 })
	if g := receivedBy(r, true); g[2].offset != evs[1].offset {
		t.Errorf("after: offset %q, want e3's %q", g[2].offset, evs[1].offset)
	}
}

// TestStreamsEmitterDuringRestore: an emitter broadcast that arrives while
// a socket is being restored reaches it after its missed events; one that
// arrives right after, while the replica's reader has not yet delivered
// what the restore read, reaches it with the offset it already has. The
// reader is made to look behind the restore's XRANGE by setting back the
// namespace's delivered id, which is what a lagging reader shows.
func TestStreamsEmitterDuringRestore(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 2, time.Minute)
	emitterReady(t, nodes)
	ctx := context.Background()
	prefix := nodes[0].c.cfg.Prefix
	pub, next := nodes[0], nodes[1]
	other := next.ns.connect("otherAAAAAAAAAAAAAAA", "room1")
	_ = pub.ad.Broadcast(ctx, event("e0"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "e0", func() bool { return len(eventsOf(other)) == 1 })
	from := receivedBy(other, true)[0].offset
	_ = pub.ad.Broadcast(ctx, event("e1"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	_ = pub.ad.Broadcast(ctx, event("e2"), adapter.BroadcastOptions{Rooms: []string{"room1"}})
	eventually(t, "e1 e2", func() bool { return len(eventsOf(other)) == 3 })
	e2 := receivedBy(other, true)[2].offset

	sid := "sid0000000000000010"
	_ = pub.ad.PersistSession(ctx, &adapter.Session{SID: sid, PID: "pid10", Rooms: []string{sid, "room1"}})
	eventually(t, "session stored", func() bool {
		n, _ := rdb(t).Exists(ctx, wire.DefaultSessionKeyPrefix+"pid10").Result()
		return n == 1
	})
	sess, err := next.ad.RestoreSession(ctx, "pid10", from)
	if err != nil || sess == nil {
		t.Fatalf("RestoreSession = %v, %v", sess, err)
	}
	ad := next.ad
	ad.fenceMu.Lock()
	ad.delivered = from // the reader "is" at e0 while the restore read up to e2
	ad.fenceMu.Unlock()
	emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("during")).publish(t)
	eventually(t, "during buffered for the restoring socket", func() bool {
		ad.fenceMu.Lock()
		defer ad.fenceMu.Unlock()
		f := ad.fences[sid]
		return f != nil && len(f.buffer) == 1
	})
	r := next.ns.connect(sess.SID, sess.Rooms...)
	emitterEmit(prefix, []string{"room1"}, nil, wire.Value{}, str("right-after")).publish(t)
	eventually(t, "right-after", func() bool { return len(eventsOf(r)) == 4 && len(eventsOf(other)) == 5 })
	got := receivedBy(r, true)
	want := []struct{ name, offset string }{{"e1", ""}, {"e2", e2}, {"during", e2}, {"right-after", e2}}
	for i, w := range want {
		if got[i].name != w.name || w.offset != "" && got[i].offset != w.offset {
			t.Errorf("restored socket event %d = %+v, want %s with offset %s", i, got[i], w.name, w.offset)
		}
	}
	// the others get the reader's position
	if g := receivedBy(other, true); g[4].name != "right-after" || g[4].offset != from {
		t.Errorf("other socket got %+v, want right-after with offset %s", g[4], from)
	}
}

// offlineStreamsEmitter is a streams namespace adapter without its stream
// core, on an offline Cluster: enough for what arrives over pub/sub
// (ephemeral messages, responses, redis-emitter's channels), with recovery
// on and a socket being restored, so the fence paths run too.
func offlineStreamsEmitter(tb testing.TB, ns *fakeNS) *streamsAdapter {
	tb.Helper()
	c := offlineCluster(tb, ModeStreams)
	a := &streamsAdapter{window: time.Minute, fences: map[string]*fence{}}
	err := a.initMsg(c, ns, wire.ClusterMessage.EncodeMsgpack, "malformed", func(wire.ClusterMessage) {}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	a.reqChannel = wire.RequestChannel(c.cfg.Prefix, a.name)
	a.delivered = "1-1"
	a.resetFences()
	return a
}

// resetFences sets one socket being restored (into room1) and one
// restored already (joined) with entries beyond the delivered one.
func (a *streamsAdapter) resetFences() {
	a.fenceMu.Lock()
	defer a.fenceMu.Unlock()
	const restoring, joined = "restoringAAAAAAAAAAA", "4I8YVTlWllZacGFnAAAA"
	a.fences = map[string]*fence{
		restoring: {sid: restoring, rooms: []string{"room1"}, created: time.Now(), restored: true},
		joined:    {sid: joined, created: time.Now(), restored: true, joined: true, skipUpTo: streamID{5, 0}},
	}
}

// TestStreamsEmitterOffsetOfALaterNamespace: a namespace created after the
// reader passed entries, or a replica started on a non-empty stream,
// starts from the last of them, so its first emitter events carry an
// offset (nothing before it was delivered to its sockets).
func TestStreamsEmitterOffsetOfALaterNamespace(t *testing.T) {
	t.Parallel()
	nodes := streamsCluster(t, 1, time.Minute)
	nd := nodes[0]
	ctx := context.Background()
	s := nd.ns.connect("sAAAAAAAAAAAAAAAAAAA", "r")
	_ = nd.ad.Broadcast(ctx, event("e1"), adapter.BroadcastOptions{Rooms: []string{"r"}})
	eventually(t, "e1", func() bool { return len(s.events()) == 1 })
	last := receivedBy(s, true)[0].offset
	chat := newFakeNS("/chat")
	ad, err := nd.c.NewAdapter(chat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ad.Close() })
	sa := ad.(*streamsAdapter)
	sa.fenceMu.Lock()
	got := sa.delivered
	sa.fenceMu.Unlock()
	if got != last {
		t.Errorf("/chat starts at %q, want the last entry read, %q", got, last)
	}
	// a replica started on a non-empty stream starts from its last entry
	late := newStreamsNode(t, nd.c.cfg.Prefix, time.Minute)
	late.ad.fenceMu.Lock()
	got = late.ad.delivered
	late.ad.fenceMu.Unlock()
	if got != last {
		t.Errorf("a replica started later starts at %q, want %q", got, last)
	}
}
