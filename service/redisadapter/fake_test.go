package redisadapter

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// fakeNS is a stand-in for a socketio namespace: it records what the
// adapter delivers to its sockets. The adapter under test and Redis are real.
type fakeNS struct {
	name  string
	ad    adapter.Adapter
	ackID atomic.Uint64

	mu      sync.Mutex
	sockets map[string]*fakeSocket
	sse     []sseCall
	// sseAck, when set, answers server-side emits with acks.
	sseAck func(args []any) []any
}

type sseCall struct {
	args   []any
	hasAck bool
}

func newFakeNS(name string) *fakeNS {
	return &fakeNS{name: name, sockets: map[string]*fakeSocket{}}
}

func (n *fakeNS) Name() string { return n.name }

func (n *fakeNS) Socket(id string) (adapter.Socket, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.sockets[id]
	if !ok {
		return nil, false
	}
	return s, true
}

func (n *fakeNS) NextAckID() uint64 { return n.ackID.Add(1) }

func (n *fakeNS) OnServerSideEmit(args []any, ack adapter.AckFunc) {
	n.mu.Lock()
	n.sse = append(n.sse, sseCall{args: args, hasAck: ack != nil})
	fn := n.sseAck
	n.mu.Unlock()
	if ack != nil && fn != nil {
		ack(fn(args))
	}
}

func (n *fakeNS) sseCalls() []sseCall {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]sseCall(nil), n.sse...)
}

// connect adds a socket and joins it to its own room and rooms.
func (n *fakeNS) connect(id string, rooms ...string) *fakeSocket {
	s := &fakeSocket{id: id, ns: n, acks: map[uint64]adapter.AckFunc{}}
	n.mu.Lock()
	n.sockets[id] = s
	n.mu.Unlock()
	n.ad.AddAll(id, append([]string{id}, rooms...))
	return s
}

type fakeSocket struct {
	id string
	ns *fakeNS

	mu           sync.Mutex
	packets      []*parser.Packet
	acks         map[uint64]adapter.AckFunc
	disconnected bool
}

func (s *fakeSocket) ID() string { return s.id }

func (s *fakeSocket) WriteFrames(frames []parser.Frame, _ adapter.BroadcastFlags) {
	d := parser.NewDecoder(parser.DecoderConfig{})
	for _, f := range frames {
		p, err := d.Add(f)
		if err != nil {
			panic(err)
		}
		if p != nil {
			s.mu.Lock()
			s.packets = append(s.packets, p)
			s.mu.Unlock()
		}
	}
}

func (s *fakeSocket) RegisterAck(id uint64, _ time.Duration, fn adapter.AckFunc) error {
	s.mu.Lock()
	s.acks[id] = fn
	s.mu.Unlock()
	return nil
}

func (s *fakeSocket) Info() adapter.SocketInfo {
	return adapter.SocketInfo{
		ID:        s.id,
		Handshake: adapter.Handshake{Time: time.Unix(1700000000, 0), Address: "127.0.0.1", URL: "/socket.io/?EIO=4", Auth: json.RawMessage(`{"token":"t"}`)},
		Rooms:     s.ns.ad.SocketRooms(s.id),
		Data:      json.RawMessage(`{"user":"` + s.id + `"}`),
	}
}

func (s *fakeSocket) Disconnect(bool) {
	s.mu.Lock()
	s.disconnected = true
	s.mu.Unlock()
	s.ns.mu.Lock()
	delete(s.ns.sockets, s.id)
	s.ns.mu.Unlock()
	s.ns.ad.DelAll(s.id)
}

func (s *fakeSocket) Join(rooms ...string) { s.ns.ad.AddAll(s.id, rooms) }
func (s *fakeSocket) Leave(room string)    { s.ns.ad.Del(s.id, room) }

// events returns the event names received so far.
func (s *fakeSocket) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.packets {
		var name string
		if len(p.Args) > 0 {
			if raw, ok := p.Args[0].(json.RawMessage); ok {
				_ = json.Unmarshal(raw, &name)
			}
		}
		out = append(out, name)
	}
	return out
}

func (s *fakeSocket) packet(event string) *parser.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.packets {
		if raw, ok := p.Args[0].(json.RawMessage); ok && string(raw) == `"`+event+`"` {
			return p
		}
	}
	return nil
}

func (s *fakeSocket) isDisconnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnected
}

// ackAll answers every registered ack with args.
func (s *fakeSocket) ackAll(args ...any) int {
	s.mu.Lock()
	acks := s.acks
	s.acks = map[uint64]adapter.AckFunc{}
	s.mu.Unlock()
	for _, fn := range acks {
		fn(args)
	}
	return len(acks)
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, what, 5*time.Second, 5*time.Millisecond, cond)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitRoomSubs waits, in sharded mode, until every node that has a local
// member of each room has its dynamic room channel subscribed (Redis
// counts the SSUBSCRIBE). Other modes need no room subscription.
func waitRoomSubs(t *testing.T, nodes []*node, rooms ...string) {
	t.Helper()
	if len(nodes) == 0 || nodes[0].c.cfg.Mode != ModeSharded {
		return
	}
	for _, r := range rooms {
		want := 0
		for _, nd := range nodes {
			if len(nd.ad.Sockets([]string{r})) > 0 {
				want++
			}
		}
		ch := wire.ShardedRoomChannel(nodes[0].c.cfg.Prefix, "/", r)
		eventually(t, "room channel "+ch+" subscribed", func() bool {
			n, err := nodes[0].c.numSub(context.Background(), ch)
			return err == nil && n == want
		})
	}
}
