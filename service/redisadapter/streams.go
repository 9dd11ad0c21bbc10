package redisadapter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// ModeStreams speaks @socket.io/redis-streams-adapter 0.3.1's protocol, so
// Go and Node replicas on that adapter share one cluster:
//
//   - broadcasts, socketsJoin/Leave and disconnectSockets are appended to
//     the stream named Config.Prefix, "socket.io" by default (XADD
//     MAXLEN ~ 10000 * uid U nsp N type T data D); every replica follows
//     it with XREAD BLOCK, and the entry id is the offset a client gets as
//     the last argument of each event;
//   - ephemeral messages (broadcasts with acks, fetchSockets,
//     serverSideEmit) and every response go over PUBLISH, msgpack-encoded,
//     on "socket.io#<nsp>#" and "socket.io#<nsp>#<uid>#";
//   - sessions are SET sio:session:<pid> base64(msgpack{sid,pid,rooms,data})
//     PX <window>, restored with MULTI GET DEL, and the missed events are
//     read back with XRANGE from the client's offset, filtered by the
//     session's rooms.
//
// Differences from Node, all on the receiving side:
//
//   - A Go replica delivers its own broadcasts when it reads them back from
//     the stream, not right after XADD: every client of every Go replica
//     sees one order (the stream's), so its offset only grows and a
//     recovery never repeats nor skips an event.
//   - A restored socket gets the events appended while it was being
//     restored too: the adapter fences the socket from the restore until it
//     joined its rooms, then writes the missed and the fenced events in
//     stream order, before the CONNECT ack.
//   - TrackSession keeps the session of a connected socket in Redis, so a
//     client whose replica was killed (no chance to persist anything) still
//     recovers on another replica.
//   - Volatile events are not replayed.
//   - With recovery on, the stream is trimmed by age (MINID ~, the window)
//     rather than to ~10,000 entries, so an offset stays valid for the
//     whole window at any event rate; Redis holds about rate × window
//     entries. (A Node replica in the cluster still trims to ~10,000.)
type streamsAdapter struct {
	base
	core        *streamsCore
	channel     string // socket.io#<nsp>#
	respChannel string // socket.io#<nsp>#<uid>#
	window      time.Duration

	// fenceMu is held while an entry is delivered and while a restored
	// socket joins its rooms.
	fenceMu sync.Mutex
	fences  map[string]*fence // by socket id

	live liveSessions
}

var (
	_ adapter.Adapter      = (*streamsAdapter)(nil)
	_ adapter.SessionStore = (*streamsAdapter)(nil)
)

func newStreams(c *Cluster, nsp adapter.Namespace) (*streamsAdapter, error) {
	core, err := c.streamsCore()
	if err != nil {
		return nil, err
	}
	a := &streamsAdapter{core: core, window: c.cfg.RecoveryWindow, fences: map[string]*fence{}}
	if err := a.init(c, nsp, randomHex(8), nil, nil); err != nil {
		return nil, err
	}
	a.live.init(a)
	a.channel = wire.ShardedChannel(c.cfg.Prefix, a.name)
	a.respChannel = wire.ShardedRoomChannel(c.cfg.Prefix, a.name, a.uid)
	core.add(a)
	c.register(a.channel, a)
	if err := c.subscribe(context.Background(), subChannel, a.channel, a.respChannel); err != nil {
		core.remove(a)
		c.unregister(a.channel)
		return nil, err
	}
	return a, nil
}

// Close stops following the namespace.
func (a *streamsAdapter) Close() error {
	a.closeOnce.Do(func() {
		a.live.stopRefresh()
		a.core.remove(a)
		a.c.unsubscribe(context.Background(), subChannel, a.channel, a.respChannel)
		a.c.unregister(a.channel)
	})
	return nil
}

// xadd appends m to the stream; onErr runs when it cannot be appended.
func (a *streamsAdapter) xadd(m wire.ClusterMessage, onErr func()) {
	m.UID, m.NSP = a.uid, a.name
	op := streamOp{fields: wire.EntryFromMessage(m).Fields(), onErr: onErr}
	if !a.core.enqueue(op) && onErr != nil {
		onErr()
	}
}

// publishMsg sends an ephemeral message over pub/sub, msgpack-encoded.
func (a *streamsAdapter) publishMsg(m wire.ClusterMessage) bool {
	m.UID, m.NSP = a.uid, a.name
	return a.c.publish(a.channel, m.EncodeMsgpack())
}

func (a *streamsAdapter) publishResponse(requester string, m wire.ClusterMessage) {
	m.UID, m.NSP = a.uid, a.name
	a.c.publish(wire.ShardedRoomChannel(a.c.cfg.Prefix, a.name, requester), m.EncodeMsgpack())
}

// onEntry handles one stream entry, on the reader goroutine, in stream
// order.
func (a *streamsAdapter) onEntry(id string, e wire.StreamEntry) {
	m, err := e.Message()
	if err != nil {
		a.c.m.malformed.Inc()
		a.c.log.Debug("redisadapter: streams: ignoring malformed entry", "id", id, "err", err)
		return
	}
	if m.NSP != a.name {
		return
	}
	if m.Type == wire.MsgBroadcast && m.RequestID == "" {
		a.deliver(id, m) // own broadcasts too: see the type comment
		return
	}
	if m.UID == a.uid {
		return
	}
	a.onClusterMessage(m)
}

// deliver writes a broadcast entry to the local targets, with its id as
// offset when recovery is on.
func (a *streamsAdapter) deliver(id string, m wire.ClusterMessage) {
	p := packetFromWire(m.Packet)
	p.Nsp = a.name
	opts := adapterOpts(m.Opts)
	if a.window > 0 && !opts.Flags.Volatile {
		p.Args = append(p.Args, id)
	}
	a.fenceMu.Lock()
	defer a.fenceMu.Unlock()
	if len(a.fences) > 0 {
		opts = a.applyFences(id, p, m.Opts, opts)
	}
	_ = a.Memory.Broadcast(bg, p, opts)
}

// onClusterMessage handles a message of another replica (from the stream
// or from pub/sub).
func (a *streamsAdapter) onClusterMessage(m wire.ClusterMessage) {
	if m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	switch m.Type {
	case wire.MsgBroadcast: // with acks (ephemeral)
		rid, from := m.RequestID, m.UID
		p := packetFromWire(m.Packet)
		_ = a.Memory.BroadcastWithAck(bg, p, adapterOpts(m.Opts),
			func(n int) {
				a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgBroadcastClientCount, RequestID: rid, ClientCount: n})
			},
			func(args []any) {
				a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgBroadcastAck, RequestID: rid, Ack: firstArg(args)})
			})
	case wire.MsgSocketsJoin:
		_ = a.Memory.AddSockets(bg, adapterOpts(m.Opts), m.Rooms)
	case wire.MsgSocketsLeave:
		_ = a.Memory.DelSockets(bg, adapterOpts(m.Opts), m.Rooms)
	case wire.MsgDisconnectSockets:
		_ = a.Memory.DisconnectSockets(bg, adapterOpts(m.Opts), m.Close)
	case wire.MsgFetchSockets:
		local, _ := a.Memory.FetchSockets(bg, adapterOpts(m.Opts))
		infos := make([]wire.SocketInfo, len(local))
		for i, s := range local {
			infos[i] = socketInfoToWire(s)
		}
		a.publishResponse(m.UID, wire.ClusterMessage{Type: wire.MsgFetchSocketsResponse, RequestID: m.RequestID, Sockets: infos})
	case wire.MsgServerSideEmit:
		args := valueToArgs(m.Args)
		if m.RequestID == "" {
			a.serverSideEmitLocal(args, nil)
			return
		}
		rid, from := m.RequestID, m.UID
		a.serverSideEmitLocal(args, once(func(ack []any) {
			a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgServerSideEmitResponse, RequestID: rid, Ack: firstArg(ack)})
		}))
	}
}

// onMessage receives pub/sub messages (ephemeral messages and responses).
func (a *streamsAdapter) onMessage(channel string, payload []byte) {
	m, err := wire.DecodeCluster(payload)
	if err != nil {
		a.c.m.malformed.Inc()
		a.c.log.Debug("redisadapter: streams: ignoring malformed message", "nsp", a.name, "err", err)
		return
	}
	if channel == a.respChannel || m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	if m.UID == a.uid || m.NSP != a.name {
		return
	}
	a.onClusterMessage(m)
}

func (a *streamsAdapter) onResponse(m wire.ClusterMessage) {
	switch m.Type {
	case wire.MsgBroadcastClientCount:
		if ar := a.acks.get(m.RequestID); ar != nil {
			ar.clientCount(m.ClientCount)
		}
	case wire.MsgBroadcastAck:
		if ar := a.acks.get(m.RequestID); ar != nil {
			ar.ack(ackArgs(m.Ack))
		}
	case wire.MsgFetchSocketsResponse:
		if p := a.reqs.get(m.RequestID); p != nil {
			p.record(func(p *pending) {
				for _, s := range m.Sockets {
					p.sockets = append(p.sockets, socketInfoFromWire(s))
				}
			})
		}
	case wire.MsgServerSideEmitResponse:
		if p := a.reqs.get(m.RequestID); p != nil {
			p.record(func(p *pending) { p.responses = append(p.responses, ackArgs(m.Ack)) })
		}
	}
}

// Broadcast appends p to the stream; every replica, this one included,
// delivers it when it reads the entry back. A local broadcast, or one that
// cannot be appended (Redis away, queue full), is delivered here at once,
// without offset.
func (a *streamsAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	if opts.Flags.Local || !a.core.up.Load() || a.c.upCount.Load() < 1 {
		// local only, or Redis known to be away: local clients still get it
		return a.Memory.Broadcast(ctx, p, opts)
	}
	data, err := argsToValue(p.Args)
	if err != nil {
		return err
	}
	a.xadd(wire.ClusterMessage{Type: wire.MsgBroadcast,
		Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data}, Opts: wireOpts(opts)},
		func() { _ = a.Memory.Broadcast(bg, p, opts) })
	return nil
}

// BroadcastWithAck publishes over pub/sub (ephemeral, as Node does) and
// broadcasts locally.
func (a *streamsAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, clientCount func(int), ack adapter.AckFunc) error {
	if !opts.Flags.Local {
		data, err := argsToValue(p.Args)
		if err != nil {
			return err
		}
		rid := randomHex(8)
		ttl := opts.Flags.Timeout
		if ttl <= 0 {
			ttl = a.c.cfg.RequestTimeout
		}
		a.acks.add(rid, &ackRequest{clientCount: clientCount, ack: ack}, ttl)
		a.publishMsg(wire.ClusterMessage{Type: wire.MsgBroadcast, RequestID: rid,
			Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data}, Opts: wireOpts(opts)})
	}
	return a.Memory.BroadcastWithAck(ctx, p, opts, clientCount, ack)
}

// ServerCount is the number of subscribers of the namespace's channel.
func (a *streamsAdapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.numSub(ctx, a.channel)
}

func (a *streamsAdapter) request(ctx context.Context, m wire.ClusterMessage, expected int) (*pending, error) {
	m.RequestID = randomHex(8)
	p := a.reqs.start(m.RequestID, expected)
	if !a.publishMsg(m) {
		a.reqs.end(m.RequestID)
		return p, ErrQueueFull
	}
	return p, a.reqs.wait(ctx, m.RequestID, p, a.c.cfg.RequestTimeout, a.c.m)
}

// FetchSockets returns the matching sockets of every replica.
func (a *streamsAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, _ := a.Memory.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, err
	}
	if n-1 <= 0 {
		return local, nil
	}
	p, err := a.request(ctx, wire.ClusterMessage{Type: wire.MsgFetchSockets, Opts: wireOpts(opts)}, n-1)
	p.mu.Lock()
	out := append(local, p.sockets...)
	p.mu.Unlock()
	if err != nil {
		return out, fmt.Errorf("redisadapter: fetchSockets: %w", err)
	}
	return out, nil
}

// AddSockets makes the matching sockets of every replica join rooms.
func (a *streamsAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		a.xadd(wire.ClusterMessage{Type: wire.MsgSocketsJoin, Opts: wireOpts(opts), Rooms: rooms}, nil)
	}
	return a.Memory.AddSockets(ctx, opts, rooms)
}

// DelSockets makes the matching sockets of every replica leave rooms.
func (a *streamsAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		a.xadd(wire.ClusterMessage{Type: wire.MsgSocketsLeave, Opts: wireOpts(opts), Rooms: rooms}, nil)
	}
	return a.Memory.DelSockets(ctx, opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every replica.
func (a *streamsAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, closeConn bool) error {
	if !opts.Flags.Local {
		a.xadd(wire.ClusterMessage{Type: wire.MsgDisconnectSockets, Opts: wireOpts(opts), Close: closeConn}, nil)
	}
	return a.Memory.DisconnectSockets(ctx, opts, closeConn)
}

// ServerSideEmit sends args to the other replicas over pub/sub.
func (a *streamsAdapter) ServerSideEmit(_ context.Context, args []any) error {
	data, err := argsToValue(args)
	if err != nil {
		return err
	}
	a.publishMsg(wire.ClusterMessage{Type: wire.MsgServerSideEmit, Args: data})
	return nil
}

// ServerSideEmitWithAck sends args to the other replicas and returns one
// response per replica.
func (a *streamsAdapter) ServerSideEmitWithAck(ctx context.Context, args []any) ([][]any, error) {
	data, err := argsToValue(args)
	if err != nil {
		return nil, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return nil, nil
	}
	p, err := a.request(ctx, wire.ClusterMessage{Type: wire.MsgServerSideEmit, Args: data}, n-1)
	p.mu.Lock()
	out := p.responses
	p.mu.Unlock()
	return out, err
}
