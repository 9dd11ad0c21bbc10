package adapter

import (
	"context"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// fakeSocket records the frames written to it.
type fakeSocket struct {
	id string
	a  *Memory

	mu     sync.Mutex
	frames [][]parser.Frame
	acks   map[uint64]AckFunc
	closed bool
}

func (s *fakeSocket) ID() string { return s.id }
func (s *fakeSocket) WriteFrames(f []parser.Frame, _ BroadcastFlags) {
	s.mu.Lock()
	s.frames = append(s.frames, f)
	s.mu.Unlock()
}
func (s *fakeSocket) RegisterAck(id uint64, _ time.Duration, fn AckFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acks == nil {
		s.acks = map[uint64]AckFunc{}
	}
	s.acks[id] = fn
	return nil
}
func (s *fakeSocket) Info() SocketInfo {
	return SocketInfo{ID: s.id, Rooms: s.a.SocketRooms(s.id), Local: s}
}
func (s *fakeSocket) Disconnect(bool) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.a.DelAll(s.id)
}
func (s *fakeSocket) Join(rooms ...string) { s.a.AddAll(s.id, rooms) }
func (s *fakeSocket) Leave(room string)    { s.a.Del(s.id, room) }

type fakeNsp struct {
	mu      sync.Mutex
	sockets map[string]*fakeSocket
	ids     uint64
}

func (n *fakeNsp) Name() string { return "/chat" }
func (n *fakeNsp) Socket(id string) (Socket, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.sockets[id]
	if !ok {
		return nil, false
	}
	return s, true
}
func (n *fakeNsp) NextAckID() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids++
	return n.ids
}
func (n *fakeNsp) OnServerSideEmit([]any, AckFunc) {}

// setup creates a memory adapter with sockets a..e in rooms:
// a: r1; b: r1,r2; c: r2; d: (none); e: r3.
func setup(t *testing.T) (*Memory, *fakeNsp) {
	t.Helper()
	n := &fakeNsp{sockets: map[string]*fakeSocket{}}
	m, err := NewMemory(MemoryConfig{Namespace: n, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[string][]string{"a": {"r1"}, "b": {"r1", "r2"}, "c": {"r2"}, "d": nil, "e": {"r3"}}
	for id, rs := range rooms {
		n.sockets[id] = &fakeSocket{id: id, a: m}
		m.AddAll(id, append([]string{id}, rs...))
	}
	return m, n
}

func sorted(s []string) []string { sort.Strings(s); return s }

func TestMemoryTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts BroadcastOptions
		want []string
	}{
		{"all", BroadcastOptions{}, []string{"a", "b", "c", "d", "e"}},
		{"one room", BroadcastOptions{Rooms: []string{"r1"}}, []string{"a", "b"}},
		{"union", BroadcastOptions{Rooms: []string{"r1", "r2"}}, []string{"a", "b", "c"}},
		{"except room", BroadcastOptions{Except: []string{"r2"}}, []string{"a", "d", "e"}},
		{"rooms except socket", BroadcastOptions{Rooms: []string{"r1", "r2"}, Except: []string{"b"}}, []string{"a", "c"}},
		{"socket id is a room", BroadcastOptions{Rooms: []string{"d"}}, []string{"d"}},
		{"unknown room", BroadcastOptions{Rooms: []string{"nope"}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, n := setup(t)
			if err := m.Broadcast(context.Background(), &parser.Packet{Type: parser.Event, Args: []any{"x"}}, tt.opts); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			var first *byte
			for id, s := range n.sockets {
				if len(s.frames) == 0 {
					continue
				}
				got = append(got, id)
				// every target gets the very same encoded bytes
				if p := &s.frames[0][0].Data[0]; first == nil {
					first = p
				} else if p != first {
					t.Fatal("broadcast encoded more than once")
				}
				if string(s.frames[0][0].Data) != `2/chat,["x"]` {
					t.Fatalf("frame %q", s.frames[0][0].Data)
				}
			}
			if !slices.Equal(sorted(got), tt.want) {
				t.Fatalf("targets %v, want %v", got, tt.want)
			}
			if s := sorted(m.Sockets(tt.opts.Rooms)); tt.opts.Except == nil && !slices.Equal(s, tt.want) {
				t.Fatalf("Sockets %v, want %v", s, tt.want)
			}
		})
	}
}

func TestMemoryRoomsAndHooks(t *testing.T) {
	t.Parallel()
	n := &fakeNsp{sockets: map[string]*fakeSocket{}}
	var mu sync.Mutex
	var created, deleted []string
	m, err := NewMemory(MemoryConfig{
		Namespace:    n,
		OnCreateRoom: func(r string) { mu.Lock(); created = append(created, r); mu.Unlock() },
		OnDeleteRoom: func(r string) { mu.Lock(); deleted = append(deleted, r); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.AddAll("s1", []string{"s1", "room"})
	m.AddAll("s2", []string{"s2", "room"})
	m.AddAll("s2", []string{"room"}) // idempotent
	if got := sorted(m.SocketRooms("s2")); !slices.Equal(got, []string{"room", "s2"}) {
		t.Fatalf("rooms %v", got)
	}
	m.Del("s1", "room")
	m.Del("s1", "room")
	if got := sorted(m.Rooms()); !slices.Equal(got, []string{"room", "s1", "s2"}) {
		t.Fatalf("Rooms %v", got)
	}
	m.DelAll("s2")
	m.DelAll("s1")
	if len(m.Rooms()) != 0 || m.SocketRooms("s1") != nil {
		t.Fatalf("left over %v", m.Rooms())
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sorted(created), []string{"room", "s1", "s2"}) || !slices.Equal(sorted(deleted), []string{"room", "s1", "s2"}) {
		t.Fatalf("created %v deleted %v", created, deleted)
	}
}

func TestMemoryRemoteOps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, n := setup(t)
	if err := m.AddSockets(ctx, BroadcastOptions{Rooms: []string{"r1"}}, []string{"new"}); err != nil {
		t.Fatal(err)
	}
	if got := sorted(m.Sockets([]string{"new"})); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("new = %v", got)
	}
	if err := m.DelSockets(ctx, BroadcastOptions{Rooms: []string{"a"}}, []string{"new"}); err != nil {
		t.Fatal(err)
	}
	infos, err := m.FetchSockets(ctx, BroadcastOptions{Rooms: []string{"new"}})
	if err != nil || len(infos) != 1 || infos[0].ID != "b" || !slices.Contains(infos[0].Rooms, "new") {
		t.Fatalf("fetch %v %v", infos, err)
	}
	if err := m.DisconnectSockets(ctx, BroadcastOptions{Rooms: []string{"r3"}}, false); err != nil {
		t.Fatal(err)
	}
	if !n.sockets["e"].closed || m.SocketRooms("e") != nil {
		t.Fatal("e not disconnected")
	}
	if c, _ := m.ServerCount(ctx); c != 1 {
		t.Fatalf("server count %d", c)
	}
}

func TestMemoryBroadcastWithAck(t *testing.T) {
	t.Parallel()
	m, n := setup(t)
	count := -1
	var got [][]any
	err := m.BroadcastWithAck(context.Background(), &parser.Packet{Type: parser.Event, Args: []any{"q"}},
		BroadcastOptions{Rooms: []string{"r2"}}, func(c int) { count = c }, func(a []any) { got = append(got, a) })
	if err != nil || count != 2 {
		t.Fatalf("count %d err %v", count, err)
	}
	for _, id := range []string{"b", "c"} {
		s := n.sockets[id]
		if string(s.frames[0][0].Data) != `2/chat,1["q"]` {
			t.Fatalf("frame %q", s.frames[0][0].Data)
		}
		s.acks[1]([]any{id})
	}
	if len(got) != 2 {
		t.Fatalf("acks %v", got)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m, _ := setup(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := string(rune('A' + i))
			for range 200 {
				m.AddAll(id, []string{"x", "y"})
				_ = m.Sockets([]string{"x"})
				m.Del(id, "x")
				m.DelAll(id)
			}
		}()
	}
	wg.Wait()
	if got := m.Sockets([]string{"x", "y"}); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
}

func TestNewMemoryRequiresNamespace(t *testing.T) {
	t.Parallel()
	if _, err := NewMemory(MemoryConfig{}); err == nil {
		t.Fatal("want error")
	}
}

func TestMemoryRoomHooksAlternate(t *testing.T) {
	t.Parallel()
	n := &fakeNsp{sockets: map[string]*fakeSocket{}}
	var mu sync.Mutex
	live := map[string]int{}
	bad := false
	hook := func(delta int) func(string) {
		return func(r string) {
			mu.Lock()
			live[r] += delta
			if live[r] < 0 || live[r] > 1 {
				bad = true
			}
			mu.Unlock()
		}
	}
	m, err := NewMemory(MemoryConfig{Namespace: n, Shards: 2, OnCreateRoom: hook(1), OnDeleteRoom: hook(-1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := string(rune('a' + i))
			for range 300 {
				m.AddAll(id, []string{"hot", "warm"})
				m.Del(id, "hot")
				m.DelAll(id)
			}
		}()
	}
	wg.Wait()
	m.AddAll("z", []string{"warm"})
	mu.Lock()
	defer mu.Unlock()
	if bad {
		t.Fatal("a room got two creates or two deletes in a row")
	}
	if live["hot"] != 0 || live["warm"] != 1 {
		t.Fatalf("hook state %v does not match the registry", live)
	}
}

// TestMemoryHandles covers the socket handles kept with room members: a join
// made before the namespace knows the socket (middleware) is resolved at
// delivery, and a new socket registered under a known id (a recovered
// session) takes over every room of the id at its next join.
func TestMemoryHandles(t *testing.T) {
	t.Parallel()
	n := &fakeNsp{sockets: map[string]*fakeSocket{}}
	m, err := NewMemory(MemoryConfig{Namespace: n, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	send := func(room string) {
		t.Helper()
		if err := m.Broadcast(ctx, &parser.Packet{Type: parser.Event, Args: []any{room}}, BroadcastOptions{Rooms: []string{room}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(s *fakeSocket) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.frames)
	}

	m.AddAll("x", []string{"early"}) // not registered yet: no handle
	old := &fakeSocket{id: "x", a: m}
	n.mu.Lock()
	n.sockets["x"] = old
	n.mu.Unlock()
	send("early")
	if got := count(old); got != 1 {
		t.Fatalf("join before registration: %d frames, want 1", got)
	}
	m.AddAll("x", []string{"x", "late"})
	send("early")
	send("late")
	if got := count(old); got != 3 {
		t.Fatalf("after the registered join: %d frames, want 3", got)
	}

	recovered := &fakeSocket{id: "x", a: m}
	n.mu.Lock()
	n.sockets["x"] = recovered
	n.mu.Unlock()
	m.AddAll("x", []string{"x"}) // the recovered socket joins its own room
	for _, r := range []string{"early", "late", "x"} {
		send(r)
	}
	if got := count(recovered); got != 3 {
		t.Fatalf("recovered socket: %d frames, want 3 (every room of the id)", got)
	}
	if got := count(old); got != 3 {
		t.Fatalf("old socket got %d frames after the new one took its rooms, want 3", got)
	}
	m.DelAll("x")
	send("early")
	if got := count(recovered); got != 3 {
		t.Fatalf("after DelAll: %d frames, want 3", got)
	}
	if rs := m.Rooms(); len(rs) != 0 {
		t.Fatalf("rooms left after DelAll: %v", rs)
	}
}
