package redisadapter

import (
	"context"
	"fmt"
	"sync"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// shardedAdapter speaks createShardedAdapter's protocol ("dynamic"
// subscription mode) for one namespace.
type shardedAdapter struct {
	base
	channel     string // socket.io#<nsp>#
	respChannel string // socket.io#<nsp>#<uid>#

	dynMu sync.Mutex
	dyn   map[string]struct{} // rooms with their own subscribed channel
}

var _ adapter.Adapter = (*shardedAdapter)(nil)

func newSharded(c *Cluster, nsp adapter.Namespace) (*shardedAdapter, error) {
	a := &shardedAdapter{dyn: map[string]struct{}{}}
	err := a.init(c, nsp, randomHex(8),
		func(room string) {
			if !a.publicRoom(room) {
				return
			}
			a.dynMu.Lock()
			a.dyn[room] = struct{}{}
			a.dynMu.Unlock()
			_ = a.c.subscribe(context.Background(), subShard, a.roomChannel(room))
		},
		func(room string) {
			a.dynMu.Lock()
			_, ok := a.dyn[room]
			delete(a.dyn, room)
			a.dynMu.Unlock()
			if ok {
				a.c.unsubscribe(context.Background(), subShard, a.roomChannel(room))
			}
		})
	if err != nil {
		return nil, err
	}
	a.channel = wire.ShardedChannel(c.cfg.Prefix, a.name)
	a.respChannel = wire.ShardedRoomChannel(c.cfg.Prefix, a.name, a.uid)
	c.register(a.channel, a)
	if err := c.subscribe(context.Background(), subShard, a.channel, a.respChannel); err != nil {
		return nil, err
	}
	return a, nil
}

// publicRoom reports whether a room gets its own channel: in dynamic mode,
// every room that is not a socket's private room.
func (a *shardedAdapter) publicRoom(room string) bool { return !a.isSocketID(room) }

func (a *shardedAdapter) roomChannel(room string) string {
	return wire.ShardedRoomChannel(a.c.cfg.Prefix, a.name, room)
}

// Close unsubscribes the namespace's channels.
func (a *shardedAdapter) Close() error {
	a.closeOnce.Do(func() {
		ctx := context.Background()
		chs := []string{a.channel, a.respChannel}
		a.dynMu.Lock()
		for r := range a.dyn {
			chs = append(chs, a.roomChannel(r))
		}
		a.dynMu.Unlock()
		a.c.unsubscribe(ctx, subShard, chs...)
		a.c.unregister(a.channel)
	})
	return nil
}

func (a *shardedAdapter) publishMsg(m wire.ClusterMessage) bool {
	m.UID, m.NSP = a.uid, a.name
	ch := a.channel
	if m.Type == wire.MsgBroadcast && m.RequestID == "" && len(m.Opts.Rooms) == 1 && !wire.LooksLikeSocketID(m.Opts.Rooms[0]) {
		ch = a.roomChannel(m.Opts.Rooms[0])
	}
	return a.c.publish(ch, m.Encode())
}

func (a *shardedAdapter) publishResponse(requester string, m wire.ClusterMessage) {
	m.UID, m.NSP = a.uid, a.name
	a.c.publish(wire.ShardedRoomChannel(a.c.cfg.Prefix, a.name, requester), m.Encode())
}

func (a *shardedAdapter) onMessage(channel string, payload []byte) {
	m, err := wire.DecodeCluster(payload)
	if err != nil {
		a.c.m.malformed.Inc()
		a.c.log.Debug("redisadapter: ignoring malformed sharded message", "nsp", a.name, "err", err)
		return
	}
	if channel == a.respChannel || m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	if m.UID == a.uid || m.NSP != a.name {
		return
	}
	switch m.Type {
	case wire.MsgBroadcast:
		if !validEvent(m.Packet) {
			a.c.m.malformed.Inc()
			return
		}
		opts := adapterOpts(m.Opts)
		if m.RequestID == "" {
			_ = a.Memory.Broadcast(bg, packetFromWire(m.Packet), opts)
			return
		}
		rid, from := m.RequestID, m.UID
		_ = a.Memory.BroadcastWithAck(bg, packetFromWire(m.Packet), opts,
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

func (a *shardedAdapter) onResponse(m wire.ClusterMessage) {
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

// Broadcast publishes p (on the room's own channel when exactly one public
// room is targeted) and delivers it locally.
func (a *shardedAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	if !opts.Flags.Local {
		data, err := argsToValue(p.Args)
		if err != nil {
			return err
		}
		a.publishMsg(wire.ClusterMessage{Type: wire.MsgBroadcast,
			Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data}, Opts: wireOpts(opts)})
	}
	return a.Memory.Broadcast(ctx, p, opts)
}

// BroadcastWithAck publishes on the main channel (every server answers with
// a client count) and broadcasts locally.
func (a *shardedAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, clientCount func(int), ack adapter.AckFunc) error {
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

// ServerCount is the number of shard subscribers of the main channel.
func (a *shardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.numSub(ctx, a.channel)
}

func (a *shardedAdapter) request(ctx context.Context, m wire.ClusterMessage, expected int) (*pending, error) {
	m.RequestID = randomHex(8)
	p := a.reqs.start(m.RequestID, expected)
	if !a.publishMsg(m) {
		a.reqs.end(m.RequestID)
		return p, ErrQueueFull
	}
	return p, a.reqs.wait(ctx, m.RequestID, p, a.c.cfg.RequestTimeout, a.c.m)
}

// FetchSockets returns the matching sockets of every node.
func (a *shardedAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
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

// AddSockets makes the matching sockets of every node join rooms.
func (a *shardedAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		a.publishMsg(wire.ClusterMessage{Type: wire.MsgSocketsJoin, Opts: wireOpts(opts), Rooms: rooms})
	}
	return a.Memory.AddSockets(ctx, opts, rooms)
}

// DelSockets makes the matching sockets of every node leave rooms.
func (a *shardedAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		a.publishMsg(wire.ClusterMessage{Type: wire.MsgSocketsLeave, Opts: wireOpts(opts), Rooms: rooms})
	}
	return a.Memory.DelSockets(ctx, opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every node.
func (a *shardedAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, closeConn bool) error {
	if !opts.Flags.Local {
		a.publishMsg(wire.ClusterMessage{Type: wire.MsgDisconnectSockets, Opts: wireOpts(opts), Close: closeConn})
	}
	return a.Memory.DisconnectSockets(ctx, opts, closeConn)
}

// ServerSideEmit sends args to the other nodes.
func (a *shardedAdapter) ServerSideEmit(ctx context.Context, args []any) error {
	data, err := argsToValue(args)
	if err != nil {
		return err
	}
	a.publishMsg(wire.ClusterMessage{Type: wire.MsgServerSideEmit, Args: data})
	return nil
}

// ServerSideEmitWithAck sends args to the other nodes and returns one
// response per node.
func (a *shardedAdapter) ServerSideEmitWithAck(ctx context.Context, args []any) ([][]any, error) {
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
