package redisadapter

import (
	"context"
	"strings"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// classicAdapter speaks @socket.io/redis-adapter's createAdapter protocol
// for one namespace.
type classicAdapter struct {
	base
	channel      string // socket.io#<nsp>#
	reqChannel   string // socket.io-request#<nsp>#
	respChannel  string // socket.io-response#<nsp>#
	specificResp string // socket.io-response#<nsp>#<uid>#
}

var _ adapter.Adapter = (*classicAdapter)(nil)

func newClassic(c *Cluster, nsp adapter.Namespace) (*classicAdapter, error) {
	a := &classicAdapter{}
	err := a.init(c, nsp, modeHooks{newID: func() string { return randomUID(6) }, sendOp: a.publishOp})
	if err != nil {
		return nil, err
	}
	p := c.cfg.Prefix
	a.channel = wire.BroadcastChannel(p, a.name, nil)
	a.reqChannel = wire.RequestChannel(p, a.name)
	a.respChannel = wire.ResponseChannel(p, a.name)
	a.specificResp = wire.SpecificResponseChannel(p, a.name, a.uid)
	c.register(a.channel, a)
	c.register(a.reqChannel, a)
	c.register(a.respChannel, a)
	ctx := context.Background()
	if err := c.subscribe(ctx, subPattern, wire.BroadcastPattern(p, a.name)); err != nil {
		return nil, err
	}
	if err := c.subscribe(ctx, subChannel, a.reqChannel, a.respChannel, a.specificResp); err != nil {
		return nil, err
	}
	return a, nil
}

// Close unsubscribes the namespace's channels.
func (a *classicAdapter) Close() error {
	a.closeOnce.Do(func() {
		ctx := context.Background()
		a.c.unsubscribe(ctx, subPattern, wire.BroadcastPattern(a.c.cfg.Prefix, a.name))
		a.c.unsubscribe(ctx, subChannel, a.reqChannel, a.respChannel, a.specificResp)
		a.c.unregister(a.channel)
		a.c.unregister(a.reqChannel)
		a.c.unregister(a.respChannel)
	})
	return nil
}

func (a *classicAdapter) onMessage(channel string, payload []byte) {
	switch {
	case channel == a.reqChannel:
		a.onRequest(payload)
	case strings.HasPrefix(channel, a.respChannel):
		a.onResponse(payload)
	case strings.HasPrefix(channel, a.channel):
		room := strings.TrimSuffix(channel[len(a.channel):], "#")
		if room != "" && !a.hasRoom(room) {
			return
		}
		a.onBroadcast(payload)
	}
}

func (a *classicAdapter) malformed(what string, err error) {
	a.c.m.malformed.Inc()
	a.c.log.Debug("redisadapter: ignoring malformed "+what, "nsp", a.name, "err", err)
}

func (a *classicAdapter) onBroadcast(payload []byte) {
	b, err := wire.DecodeBroadcast(payload)
	if err != nil {
		a.malformed("broadcast", err)
		return
	}
	if b.UID == a.uid || b.Packet.NSP != a.name {
		return
	}
	if !validEvent(b.Packet) {
		a.malformed("broadcast", errInvalidEvent)
		return
	}
	if err := a.Memory.Broadcast(bg, packetFromWire(b.Packet), adapterOpts(b.Opts)); err != nil {
		a.c.log.Debug("redisadapter: local broadcast failed", "err", err)
	}
}

func (a *classicAdapter) respond(payload []byte) { a.c.publish(a.respChannel, payload) }

func (a *classicAdapter) onRequest(payload []byte) {
	r, err := wire.DecodeRequest(payload)
	if err != nil {
		a.malformed("request", err)
		return
	}
	switch r.Type {
	case wire.ReqSockets:
		if a.reqs.get(r.RequestID) != nil || r.RequestID == "" {
			return
		}
		a.respond(wire.SocketIDsResponse(r.RequestID, a.Memory.Sockets(r.Rooms)))
	case wire.ReqAllRooms:
		if a.reqs.get(r.RequestID) != nil || r.RequestID == "" {
			return
		}
		a.respond(wire.AllRoomsResponse(r.RequestID, a.Memory.Rooms()))
	case wire.ReqRemoteJoin, wire.ReqRemoteLeave, wire.ReqRemoteDisconnect:
		a.onRemoteOp(r)
	case wire.ReqRemoteFetch:
		if a.reqs.get(r.RequestID) != nil || r.RequestID == "" {
			return
		}
		a.respond(wire.FetchResponse(r.RequestID, a.localSocketInfos(*r.Opts)))
	case wire.ReqServerSideEmit:
		if r.UID == a.uid {
			return
		}
		rid := r.RequestID
		a.serverSideEmitFrom(r.Data, rid, func(ack wire.Value) {
			a.respond(wire.ServerSideEmitResponse(rid, ack))
		})
	case wire.ReqBroadcast:
		if a.acks.get(r.RequestID) != nil {
			return // our own
		}
		if !validEvent(r.Packet) {
			a.malformed("broadcast request", errInvalidEvent)
			return
		}
		rid := r.RequestID
		a.broadcastWithAckFrom(r.Packet, *r.Opts,
			func(n int) { a.respond(wire.ClientCountResponse(rid, n)) },
			func(ack wire.Value) { a.respond(wire.BroadcastAckResponse(rid, ack)) })
	}
}

// onRemoteOp applies socketsJoin/socketsLeave/disconnectSockets from another
// node (or an emitter). Our own were applied locally when sent.
func (a *classicAdapter) onRemoteOp(r wire.Request) {
	if r.Opts != nil {
		if op, ok := classicOp(r.Type); ok && r.UID != a.uid {
			a.applyOp(op, *r.Opts, r.Rooms, r.Close)
		}
		return
	}
	// legacy single-socket form (socket.io-redis 5/6 remoteJoin & co)
	s, ok := a.nsp.Socket(r.SID)
	if !ok {
		return
	}
	switch r.Type {
	case wire.ReqRemoteJoin:
		s.Join(r.Room)
	case wire.ReqRemoteLeave:
		s.Leave(r.Room)
	case wire.ReqRemoteDisconnect:
		s.Disconnect(r.Close)
	}
	if r.RequestID != "" {
		a.respond(wire.AckResponse(r.RequestID))
	}
}

func (a *classicAdapter) onResponse(payload []byte) {
	r, err := wire.DecodeResponse(payload)
	if err != nil {
		a.malformed("response", err)
		return
	}
	if ar := a.acks.get(r.RequestID); ar != nil {
		switch r.Type {
		case wire.ReqBroadcastClientCount:
			ar.clientCount(r.ClientCount)
		case wire.ReqBroadcastAck:
			ar.ack(ackArgs(r.Packet))
		}
		return
	}
	p := a.reqs.get(r.RequestID)
	if p == nil {
		return
	}
	p.record(func(p *pending) {
		switch {
		case r.HasType && r.Type == wire.ReqServerSideEmit:
			p.responses = append(p.responses, ackArgs(r.Data))
		case r.Sockets != nil:
			for _, s := range r.Sockets {
				p.sockets = append(p.sockets, socketInfoFromWire(s))
			}
		case r.HasSockets():
			p.rooms = append(p.rooms, r.SocketIDs...)
		case r.HasRooms():
			p.rooms = append(p.rooms, r.Rooms...)
		}
	})
}

// Broadcast publishes p to the other nodes (unless Local) and delivers it
// to the local sockets.
func (a *classicAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	return a.broadcast(ctx, p, opts, func(data wire.Value) {
		msg := wire.Broadcast{UID: a.uid, Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data, NSP: a.name}, Opts: wireOpts(opts)}
		a.c.publish(wire.BroadcastChannel(a.c.cfg.Prefix, a.name, opts.Rooms), msg.Encode())
	})
}

// BroadcastWithAck publishes a broadcast request whose answers (client
// counts, then acks) are routed to clientCount and ack until the flags'
// timeout, and broadcasts locally.
func (a *classicAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, clientCount func(int), ack adapter.AckFunc) error {
	return a.broadcastWithAck(ctx, p, opts, clientCount, ack, func(rid string, data wire.Value) {
		o := wireOpts(opts)
		req := wire.Request{UID: a.uid, RequestID: rid, Type: wire.ReqBroadcast,
			Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data, NSP: a.name}, Opts: &o}
		a.c.publish(a.reqChannel, req.Encode())
	})
}

// ServerCount is the number of subscribers of the request channel.
func (a *classicAdapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.numSub(ctx, a.reqChannel)
}

// send returns the sendFunc that publishes req, from this node, under a
// request id on the request channel.
func (a *classicAdapter) send(req wire.Request) sendFunc {
	return func(rid string) bool {
		req.UID, req.RequestID = a.uid, rid
		return a.c.publish(a.reqChannel, req.Encode())
	}
}

// FetchSockets returns the matching local sockets plus those of every
// other node. On timeout it returns what it collected and an error
// wrapping ErrTimeout.
func (a *classicAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	o := wire.Opts{Rooms: opts.Rooms, Except: opts.Except}
	return a.fetchSockets(ctx, opts, a.ServerCount, a.send(wire.Request{Type: wire.ReqRemoteFetch, Opts: &o}))
}

// AllRooms returns the rooms of every node (Node's adapter.allRooms()).
func (a *classicAdapter) AllRooms(ctx context.Context) ([]string, error) {
	local := a.Memory.Rooms()
	p, err := a.askOthers(ctx, a.ServerCount, a.send(wire.Request{Type: wire.ReqAllRooms}))
	if p == nil {
		return local, err
	}
	p.mu.Lock()
	seen := make(map[string]struct{}, len(local)+len(p.rooms))
	out := make([]string, 0, len(local)+len(p.rooms))
	for _, r := range append(local, p.rooms...) {
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	p.mu.Unlock()
	return out, err
}

// publishOp publishes socketsJoin/socketsLeave/disconnectSockets on the
// request channel.
func (a *classicAdapter) publishOp(op remoteOp, opts adapter.BroadcastOptions, rooms []string, closeConn bool) {
	t := pickOp(op, wire.ReqRemoteJoin, wire.ReqRemoteLeave, wire.ReqRemoteDisconnect)
	o := wire.Opts{Rooms: opts.Rooms, Except: opts.Except}
	req := wire.Request{UID: a.uid, Type: t, Opts: &o, Rooms: rooms, Close: closeConn}
	a.c.publish(a.reqChannel, req.Encode())
}

// ServerSideEmit sends args to the other nodes.
func (a *classicAdapter) ServerSideEmit(ctx context.Context, args []any) error {
	data, err := argsToValue(args)
	if err != nil {
		return err
	}
	a.c.publish(a.reqChannel, wire.Request{UID: a.uid, Type: wire.ReqServerSideEmit, Data: data}.Encode())
	return nil
}

// ServerSideEmitWithAck sends args to the other nodes and returns one
// response per node; on timeout, what arrived and an error wrapping
// ErrTimeout.
func (a *classicAdapter) ServerSideEmitWithAck(ctx context.Context, args []any) ([][]any, error) {
	data, err := argsToValue(args)
	if err != nil {
		return nil, err
	}
	return a.serverSideEmitWithAck(ctx, a.ServerCount, a.send(wire.Request{Type: wire.ReqServerSideEmit, Data: data}))
}
