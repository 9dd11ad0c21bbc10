package redisadapter

import (
	"context"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// msgAdapter is what the sharded and streams adapters share: both speak
// wire.ClusterMessage, publish requests on "socket.io#<nsp>#" and answer on
// the requester's "socket.io#<nsp>#<uid>#". They differ in the encoding
// (JSON or msgpack), in how plain broadcasts and socketsJoin & co travel
// (pub/sub or the stream) and in the subscription kind.
type msgAdapter struct {
	base
	channel     string // socket.io#<nsp>#
	respChannel string // socket.io#<nsp>#<uid>#
	encode      func(wire.ClusterMessage) []byte
	malformed   string // log message for an undecodable message
}

// initMsg sets up base and the channels. sendOp receives the
// ClusterMessage of a socketsJoin & co (see opMessage).
func (a *msgAdapter) initMsg(c *Cluster, nsp adapter.Namespace, encode func(wire.ClusterMessage) []byte, malformed string, sendOp func(wire.ClusterMessage), onCreate, onDelete func(string)) error {
	a.encode, a.malformed = encode, malformed
	err := a.init(c, nsp, modeHooks{
		newID: func() string { return randomHex(8) },
		sendOp: func(op remoteOp, opts adapter.BroadcastOptions, rooms []string, closeConn bool) {
			sendOp(opMessage(op, opts, rooms, closeConn))
		},
		onCreate: onCreate,
		onDelete: onDelete,
	})
	if err != nil {
		return err
	}
	a.channel = wire.ShardedChannel(c.cfg.Prefix, a.name)
	a.respChannel = wire.ShardedRoomChannel(c.cfg.Prefix, a.name, a.uid)
	return nil
}

// opMessage is the ClusterMessage of a socketsJoin, socketsLeave or
// disconnectSockets.
func opMessage(op remoteOp, opts adapter.BroadcastOptions, rooms []string, closeConn bool) wire.ClusterMessage {
	t := pickOp(op, wire.MsgSocketsJoin, wire.MsgSocketsLeave, wire.MsgDisconnectSockets)
	return wire.ClusterMessage{Type: t, Opts: wireOpts(opts), Rooms: rooms, Close: closeConn}
}

// publishOn sends m, from this server, on channel.
func (a *msgAdapter) publishOn(channel string, m wire.ClusterMessage) bool {
	m.UID, m.NSP = a.uid, a.name
	return a.c.publish(channel, a.encode(m))
}

// publish sends m on the namespace's channel.
func (a *msgAdapter) publish(m wire.ClusterMessage) bool { return a.publishOn(a.channel, m) }

// publishResponse sends m to the server whose uid is requester.
func (a *msgAdapter) publishResponse(requester string, m wire.ClusterMessage) {
	a.publishOn(wire.ShardedRoomChannel(a.c.cfg.Prefix, a.name, requester), m)
}

// sendRequest returns the sendFunc that publishes m under a request id.
func (a *msgAdapter) sendRequest(m wire.ClusterMessage) sendFunc {
	return func(rid string) bool {
		m.RequestID = rid
		return a.publish(m)
	}
}

// receive decodes a pub/sub message: responses go to onResponse, messages
// of other servers for this namespace to handle.
func (a *msgAdapter) receive(channel string, payload []byte, handle func(wire.ClusterMessage)) {
	m, err := wire.DecodeCluster(payload)
	if err != nil {
		a.c.m.malformed.Inc()
		a.c.log.Debug(a.malformed, "nsp", a.name, "err", err)
		return
	}
	if channel == a.respChannel || m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	if m.UID == a.uid || m.NSP != a.name {
		return
	}
	handle(m)
}

// onRequest handles a message of another server other than a plain
// broadcast: a MsgBroadcast here is one with acks.
func (a *msgAdapter) onRequest(m wire.ClusterMessage) {
	rid, from := m.RequestID, m.UID
	switch m.Type {
	case wire.MsgBroadcast:
		a.broadcastWithAckFrom(m.Packet, m.Opts,
			func(n int) {
				a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgBroadcastClientCount, RequestID: rid, ClientCount: n})
			},
			func(ack wire.Value) {
				a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgBroadcastAck, RequestID: rid, Ack: ack})
			})
	case wire.MsgSocketsJoin:
		a.applyOp(opJoin, m.Opts, m.Rooms, false)
	case wire.MsgSocketsLeave:
		a.applyOp(opLeave, m.Opts, m.Rooms, false)
	case wire.MsgDisconnectSockets:
		a.applyOp(opDisconnect, m.Opts, nil, m.Close)
	case wire.MsgFetchSockets:
		a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgFetchSocketsResponse, RequestID: rid, Sockets: a.localSocketInfos(m.Opts)})
	case wire.MsgServerSideEmit:
		a.serverSideEmitFrom(m.Args, rid, func(ack wire.Value) {
			a.publishResponse(from, wire.ClusterMessage{Type: wire.MsgServerSideEmitResponse, RequestID: rid, Ack: ack})
		})
	}
}

// onResponse routes an answer to one of this server's requests.
func (a *msgAdapter) onResponse(m wire.ClusterMessage) {
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

// BroadcastWithAck publishes on the namespace's channel over pub/sub
// (every server answers with a client count, then the acks) and
// broadcasts locally.
func (a *msgAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, clientCount func(int), ack adapter.AckFunc) error {
	return a.broadcastWithAck(ctx, p, opts, clientCount, ack, func(rid string, data wire.Value) {
		a.publish(wire.ClusterMessage{Type: wire.MsgBroadcast, RequestID: rid,
			Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data}, Opts: wireOpts(opts)})
	})
}

// ServerCount is the number of subscribers of the namespace's channel.
func (a *msgAdapter) ServerCount(ctx context.Context) (int, error) {
	return a.c.numSub(ctx, a.channel)
}

// FetchSockets returns the matching sockets of every server.
func (a *msgAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	return a.fetchSockets(ctx, opts, a.ServerCount,
		a.sendRequest(wire.ClusterMessage{Type: wire.MsgFetchSockets, Opts: wireOpts(opts)}))
}

// ServerSideEmit sends args to the other servers over pub/sub.
func (a *msgAdapter) ServerSideEmit(_ context.Context, args []any) error {
	data, err := argsToValue(args)
	if err != nil {
		return err
	}
	a.publish(wire.ClusterMessage{Type: wire.MsgServerSideEmit, Args: data})
	return nil
}

// ServerSideEmitWithAck sends args to the other servers and returns one
// response per server; on timeout, what arrived and an error wrapping
// ErrTimeout.
func (a *msgAdapter) ServerSideEmitWithAck(ctx context.Context, args []any) ([][]any, error) {
	data, err := argsToValue(args)
	if err != nil {
		return nil, err
	}
	return a.serverSideEmitWithAck(ctx, a.ServerCount,
		a.sendRequest(wire.ClusterMessage{Type: wire.MsgServerSideEmit, Args: data}))
}
