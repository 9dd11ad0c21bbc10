package adapter

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// Lock order
//
//	sidShard.mu  →  roomShard.mu
//	hookShard.mu →  roomShard.mu
//
// A goroutine may hold one sidShard lock and then take one roomShard lock at
// a time; it never takes a sidShard lock while holding a roomShard lock and
// never holds two locks of the same kind. No registry lock is held while
// calling into a Namespace, a Socket or a room hook; a room hook runs under
// its hookShard lock only, which serialises the hooks of one room so that
// they alternate create/delete and end matching the registry.

// DefaultShards is the shard count when MemoryConfig leaves it zero.
const DefaultShards = 32

// MemoryConfig configures a Memory adapter.
type MemoryConfig struct {
	// Namespace is the namespace served. Required.
	Namespace Namespace
	// Shards is the number of lock shards of each registry. Zero means
	// DefaultShards.
	Shards int
	// OnCreateRoom is called, outside the registry locks, when a room gets
	// its first local member. Nil means no hook. A cluster adapter uses it
	// to take the room's cross-node subscription. The hooks of one room are
	// serialised and alternate: create, delete, create, ...; under
	// concurrent joins and leaves a short-lived room may get no hook at all.
	// A hook must not call back into the adapter's AddAll/Del/DelAll for
	// the same room.
	OnCreateRoom func(room string)
	// OnDeleteRoom is called, outside the registry locks, when a room loses
	// its last local member (see OnCreateRoom for ordering).
	OnDeleteRoom func(room string)
	// Recovery enables connection state recovery; the zero value disables
	// it.
	Recovery RecoveryConfig
}

type set map[string]struct{}

// members maps the socket ids of a room to their handles, so that a
// broadcast reaches each socket without a second lookup by id. A nil handle
// (the socket joined before its namespace registered it, as middleware may)
// is resolved through the namespace at delivery.
type members map[string]Socket

type roomShard struct {
	mu    sync.RWMutex
	rooms map[string]members // room → socket id → handle
}

type hookShard struct {
	mu       sync.Mutex
	notified map[string]struct{} // rooms whose last hook was OnCreateRoom
}

type sidShard struct {
	mu   sync.RWMutex
	sids map[string]*sidEntry
}

// sidEntry is what the registry knows of one socket id: its rooms, and the
// handle stored with it in each of them (the last one AddAll resolved).
type sidEntry struct {
	rooms set
	sock  Socket
}

// Memory is the single-node Adapter: a sharded in-memory room registry.
type Memory struct {
	nsp          Namespace
	seed         maphash.Seed
	rooms        []roomShard
	sids         []sidShard
	hooks        []hookShard
	onCreateRoom func(string)
	onDeleteRoom func(string)
	rec          *recoveryLog // nil: recovery disabled
}

var _ Adapter = (*Memory)(nil)

// NewMemory returns an in-memory adapter for cfg.Namespace.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.Namespace == nil {
		return nil, errNoNamespace
	}
	n := cfg.Shards
	if n <= 0 {
		n = DefaultShards
	}
	m := &Memory{
		nsp:          cfg.Namespace,
		seed:         maphash.MakeSeed(),
		rooms:        make([]roomShard, n),
		sids:         make([]sidShard, n),
		hooks:        make([]hookShard, n),
		onCreateRoom: cfg.OnCreateRoom,
		onDeleteRoom: cfg.OnDeleteRoom,
		rec:          newRecoveryLog(cfg.Recovery),
	}
	for i := range m.rooms {
		m.rooms[i].rooms = make(map[string]members)
		m.sids[i].sids = make(map[string]*sidEntry)
		m.hooks[i].notified = make(map[string]struct{})
	}
	return m, nil
}

// MemoryFactory is a Factory of in-memory adapters.
func MemoryFactory(nsp Namespace) (Adapter, error) {
	return NewMemory(MemoryConfig{Namespace: nsp})
}

// Namespace returns the namespace served.
func (m *Memory) Namespace() Namespace { return m.nsp }

func (m *Memory) shard(key string) int {
	return int(maphash.String(m.seed, key) % uint64(len(m.rooms)))
}

// AddAll adds socket id to rooms.
func (m *Memory) AddAll(id string, rooms []string) {
	var created []string
	sock, _ := m.nsp.Socket(id) // before any registry lock (see Lock order)
	ss := &m.sids[m.shard(id)]
	ss.mu.Lock()
	e := ss.sids[id]
	if e == nil {
		e = &sidEntry{rooms: make(set, len(rooms))}
		ss.sids[id] = e
	}
	if sock != nil && sock != e.sock {
		// The id's first resolvable join, or a new socket under a known id
		// (a recovered session): every room the id is in gets the handle.
		e.sock = sock
		for r := range e.rooms {
			rs := &m.rooms[m.shard(r)]
			rs.mu.Lock()
			if ms := rs.rooms[r]; ms != nil {
				ms[id] = sock
			}
			rs.mu.Unlock()
		}
	}
	for _, r := range rooms {
		if _, ok := e.rooms[r]; ok {
			continue
		}
		e.rooms[r] = struct{}{}
		rs := &m.rooms[m.shard(r)]
		rs.mu.Lock()
		ms := rs.rooms[r]
		if ms == nil {
			ms = make(members)
			rs.rooms[r] = ms
			created = append(created, r)
		}
		ms[id] = e.sock
		rs.mu.Unlock()
	}
	ss.mu.Unlock()
	for _, r := range created {
		m.notify(r)
	}
}

// notify calls the room hook that brings the hook state of room in line
// with the registry, if any.
func (m *Memory) notify(room string) {
	if m.onCreateRoom == nil && m.onDeleteRoom == nil {
		return
	}
	i := m.shard(room)
	hs := &m.hooks[i]
	hs.mu.Lock()
	defer hs.mu.Unlock()
	rs := &m.rooms[i]
	rs.mu.RLock()
	_, exists := rs.rooms[room]
	rs.mu.RUnlock()
	_, was := hs.notified[room]
	switch {
	case exists && !was:
		hs.notified[room] = struct{}{}
		if m.onCreateRoom != nil {
			m.onCreateRoom(room)
		}
	case !exists && was:
		delete(hs.notified, room)
		if m.onDeleteRoom != nil {
			m.onDeleteRoom(room)
		}
	}
}

// removeLocked removes id from room r; the caller holds id's sid shard lock.
func (m *Memory) removeFromRoom(id, r string) (deleted bool) {
	rs := &m.rooms[m.shard(r)]
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ms := rs.rooms[r]
	if ms == nil {
		return false
	}
	delete(ms, id)
	if len(ms) == 0 {
		delete(rs.rooms, r)
		return true
	}
	return false
}

// Del removes socket id from room.
func (m *Memory) Del(id, room string) {
	ss := &m.sids[m.shard(id)]
	ss.mu.Lock()
	deleted := false
	if e := ss.sids[id]; e != nil {
		if _, ok := e.rooms[room]; ok {
			delete(e.rooms, room)
			deleted = m.removeFromRoom(id, room)
		}
	}
	ss.mu.Unlock()
	if deleted {
		m.notify(room)
	}
}

// DelAll removes socket id from every room.
func (m *Memory) DelAll(id string) {
	var deleted []string
	ss := &m.sids[m.shard(id)]
	ss.mu.Lock()
	var rooms set
	if e := ss.sids[id]; e != nil {
		rooms = e.rooms
	}
	for r := range rooms {
		if m.removeFromRoom(id, r) {
			deleted = append(deleted, r)
		}
	}
	delete(ss.sids, id)
	ss.mu.Unlock()
	for _, r := range deleted {
		m.notify(r)
	}
}

// SocketRooms returns the rooms of socket id.
func (m *Memory) SocketRooms(id string) []string {
	ss := &m.sids[m.shard(id)]
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	e, ok := ss.sids[id]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(e.rooms))
	for r := range e.rooms {
		out = append(out, r)
	}
	return out
}

// Rooms returns every local room.
func (m *Memory) Rooms() []string {
	var out []string
	for i := range m.rooms {
		rs := &m.rooms[i]
		rs.mu.RLock()
		for r := range rs.rooms {
			out = append(out, r)
		}
		rs.mu.RUnlock()
	}
	return out
}

// Sockets returns the local socket ids in any of rooms (all if empty).
func (m *Memory) Sockets(rooms []string) []string {
	ts := m.targets(BroadcastOptions{Rooms: rooms})
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.id
	}
	return out
}

// target is one selected socket: its id and, when the registry has it, its
// handle.
type target struct {
	id   string
	sock Socket
}

func (m *Memory) membersOf(room string, into members) {
	rs := &m.rooms[m.shard(room)]
	rs.mu.RLock()
	for id, s := range rs.rooms[room] {
		into[id] = s
	}
	rs.mu.RUnlock()
}

// targets computes the sockets selected by opts.
func (m *Memory) targets(opts BroadcastOptions) []target {
	var except members
	if len(opts.Except) > 0 {
		except = make(members)
		for _, r := range opts.Except {
			m.membersOf(r, except)
		}
	}
	var out []target
	if len(opts.Rooms) > 0 {
		if len(opts.Rooms) == 1 && except == nil {
			rs := &m.rooms[m.shard(opts.Rooms[0])]
			rs.mu.RLock()
			ms := rs.rooms[opts.Rooms[0]]
			out = make([]target, 0, len(ms))
			for id, s := range ms {
				out = append(out, target{id, s})
			}
			rs.mu.RUnlock()
			return out
		}
		all := make(members)
		for _, r := range opts.Rooms {
			m.membersOf(r, all)
		}
		out = make([]target, 0, len(all))
		for id, s := range all {
			if _, ex := except[id]; !ex {
				out = append(out, target{id, s})
			}
		}
		return out
	}
	for i := range m.sids {
		ss := &m.sids[i]
		ss.mu.RLock()
		for id, e := range ss.sids {
			if _, ex := except[id]; !ex {
				out = append(out, target{id, e.sock})
			}
		}
		ss.mu.RUnlock()
	}
	return out
}

// Apply calls fn for every local socket selected by opts. No lock is held
// while fn runs.
func (m *Memory) Apply(opts BroadcastOptions, fn func(Socket)) {
	for _, t := range m.targets(opts) {
		s := t.sock
		if s == nil {
			var ok bool
			if s, ok = m.nsp.Socket(t.id); !ok {
				continue
			}
		}
		fn(s)
	}
}

// Broadcast encodes p once and writes the same frames to every target.
// With recovery enabled, a non-volatile EVENT without ack id first gets an
// offset appended to its arguments and is logged.
func (m *Memory) Broadcast(_ context.Context, p *parser.Packet, opts BroadcastOptions) error {
	p.Nsp = m.nsp.Name()
	if m.rec != nil && p.Type == parser.Event && !p.HasID && !opts.Flags.Volatile {
		m.rec.record(p, opts)
	}
	frames, err := parser.Encode(p)
	if err != nil {
		return err
	}
	m.Apply(opts, func(s Socket) { s.WriteFrames(frames, opts.Flags) })
	return nil
}

// BroadcastWithAck broadcasts p with an ack id shared by all targets.
func (m *Memory) BroadcastWithAck(_ context.Context, p *parser.Packet, opts BroadcastOptions, clientCount func(int), ack AckFunc) error {
	p.Nsp = m.nsp.Name()
	p.HasID, p.ID = true, m.nsp.NextAckID()
	frames, err := parser.Encode(p)
	if err != nil {
		return err
	}
	n := 0
	m.Apply(opts, func(s Socket) {
		if s.RegisterAck(p.ID, opts.Flags.Timeout, ack) != nil {
			return
		}
		n++
		s.WriteFrames(frames, opts.Flags)
	})
	clientCount(n)
	return nil
}

// FetchSockets returns the local sockets selected by opts.
func (m *Memory) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	var out []SocketInfo
	m.Apply(opts, func(s Socket) { out = append(out, s.Info()) })
	return out, nil
}

// AddSockets makes the selected local sockets join rooms.
func (m *Memory) AddSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	m.Apply(opts, func(s Socket) { s.Join(rooms...) })
	return nil
}

// DelSockets makes the selected local sockets leave rooms.
func (m *Memory) DelSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	m.Apply(opts, func(s Socket) {
		for _, r := range rooms {
			s.Leave(r)
		}
	})
	return nil
}

// DisconnectSockets disconnects the selected local sockets.
func (m *Memory) DisconnectSockets(_ context.Context, opts BroadcastOptions, close bool) error {
	m.Apply(opts, func(s Socket) { s.Disconnect(close) })
	return nil
}

// ServerSideEmit is a no-op on a single node: there is no other server.
func (m *Memory) ServerSideEmit(context.Context, []any) error { return nil }

// ServerSideEmitWithAck returns no responses on a single node.
func (m *Memory) ServerSideEmitWithAck(context.Context, []any) ([][]any, error) {
	return nil, nil
}

// ServerCount is always 1.
func (m *Memory) ServerCount(context.Context) (int, error) { return 1, nil }

// Close is a no-op.
func (m *Memory) Close() error { return nil }
