package redisadapter

import (
	"context"
	"fmt"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// remoteOp is a socketsJoin, socketsLeave or disconnectSockets sent to the
// other servers; each mode encodes it its own way (base.sendOp).
type remoteOp int

const (
	opJoin remoteOp = iota
	opLeave
	opDisconnect
)

// pickOp returns what stands for op in a mode's encoding.
func pickOp[T any](op remoteOp, join, leave, disconnect T) T {
	switch op {
	case opLeave:
		return leave
	case opDisconnect:
		return disconnect
	}
	return join
}

// applyOp applies a socketsJoin, socketsLeave or disconnectSockets of
// another server (or of redis-emitter) to the local sockets.
func (b *base) applyOp(op remoteOp, o wire.Opts, rooms []string, closeConn bool) {
	opts := adapterOpts(o)
	switch op {
	case opJoin:
		_ = b.Memory.AddSockets(bg, opts, rooms)
	case opLeave:
		_ = b.Memory.DelSockets(bg, opts, rooms)
	case opDisconnect:
		_ = b.Memory.DisconnectSockets(bg, opts, closeConn)
	}
}

// classicOp is the remoteOp of a classic request type.
func classicOp(t wire.RequestType) (remoteOp, bool) {
	switch t {
	case wire.ReqRemoteJoin:
		return opJoin, true
	case wire.ReqRemoteLeave:
		return opLeave, true
	case wire.ReqRemoteDisconnect:
		return opDisconnect, true
	}
	return 0, false
}

// AddSockets makes the matching sockets of every server join rooms.
func (b *base) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		b.sendOp(opJoin, opts, rooms, false)
	}
	return b.Memory.AddSockets(ctx, opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (b *base) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	if !opts.Flags.Local {
		b.sendOp(opLeave, opts, rooms, false)
	}
	return b.Memory.DelSockets(ctx, opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (b *base) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, closeConn bool) error {
	if !opts.Flags.Local {
		b.sendOp(opDisconnect, opts, nil, closeConn)
	}
	return b.Memory.DisconnectSockets(ctx, opts, closeConn)
}

// broadcast sends p's arguments to the other servers with send (unless
// the broadcast is local) and delivers p to the local sockets.
func (b *base) broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, send func(data wire.Value)) error {
	if !opts.Flags.Local {
		data, err := argsToValue(p.Args)
		if err != nil {
			return err
		}
		send(data)
	}
	return b.Memory.Broadcast(ctx, p, opts)
}

// broadcastWithAck is broadcast with acks: send gets a new request id
// whose answers (client counts, then acks) go to clientCount and ack until
// the flags' timeout (the request timeout without one).
func (b *base) broadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, clientCount func(int), ack adapter.AckFunc, send func(rid string, data wire.Value)) error {
	if !opts.Flags.Local {
		data, err := argsToValue(p.Args)
		if err != nil {
			return err
		}
		rid := b.newID()
		ttl := opts.Flags.Timeout
		if ttl <= 0 {
			ttl = b.c.cfg.RequestTimeout
		}
		b.acks.add(rid, &ackRequest{clientCount: clientCount, ack: ack}, ttl)
		send(rid, data)
	}
	return b.Memory.BroadcastWithAck(ctx, p, opts, clientCount, ack)
}

// sendFunc publishes a request under the request id it is given; false
// when it could not be queued.
type sendFunc func(rid string) bool

// askOthers counts the servers with count and, when there are others,
// sends them a request and waits for their answers (see request). p is nil
// when there is nobody to ask or counting failed (err).
func (b *base) askOthers(ctx context.Context, count func(context.Context) (int, error), send sendFunc) (p *pending, err error) {
	n, err := count(ctx)
	if err != nil || n <= 1 {
		return nil, err
	}
	return b.request(ctx, send, n-1)
}

// request sends a request under a new id and waits until expected answers
// arrived or the request timeout passed (ErrTimeout). p holds what arrived
// in every case.
func (b *base) request(ctx context.Context, send sendFunc, expected int) (*pending, error) {
	rid := b.newID()
	p := b.reqs.start(rid, expected)
	if !send(rid) {
		b.reqs.end(rid)
		return p, ErrQueueFull
	}
	return p, b.reqs.wait(ctx, rid, p, b.c.cfg.RequestTimeout, b.c.m)
}

// fetchSockets returns the matching local sockets plus those the other
// servers sent back. On timeout it returns what it collected and an error
// wrapping ErrTimeout.
func (b *base) fetchSockets(ctx context.Context, opts adapter.BroadcastOptions, count func(context.Context) (int, error), send sendFunc) ([]adapter.SocketInfo, error) {
	local, _ := b.Memory.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	p, err := b.askOthers(ctx, count, send)
	if p == nil {
		return local, err
	}
	p.mu.Lock()
	out := append(local, p.sockets...)
	p.mu.Unlock()
	if err != nil {
		return out, fmt.Errorf("redisadapter: fetchSockets: %w", err)
	}
	return out, nil
}

// serverSideEmitWithAck returns one response per other server; on
// timeout, what arrived and an error wrapping ErrTimeout.
func (b *base) serverSideEmitWithAck(ctx context.Context, count func(context.Context) (int, error), send sendFunc) ([][]any, error) {
	p, err := b.askOthers(ctx, count, send)
	if p == nil {
		return nil, err
	}
	p.mu.Lock()
	out := p.responses
	p.mu.Unlock()
	return out, err
}

// localSocketInfos answers a fetchSockets request: the matching local
// sockets.
func (b *base) localSocketInfos(o wire.Opts) []wire.SocketInfo {
	local, _ := b.Memory.FetchSockets(bg, adapterOpts(o))
	infos := make([]wire.SocketInfo, len(local))
	for i, s := range local {
		infos[i] = socketInfoToWire(s)
	}
	return infos
}

// serverSideEmitFrom hands a serverSideEmit of another server to the
// namespace; when it carries a request id, the first ack goes to reply.
func (b *base) serverSideEmitFrom(data wire.Value, rid string, reply func(ack wire.Value)) {
	args := valueToArgs(data)
	if rid == "" {
		b.serverSideEmitLocal(args, nil)
		return
	}
	b.serverSideEmitLocal(args, once(func(ack []any) { reply(firstArg(ack)) }))
}

// broadcastWithAckFrom delivers a broadcast with acks of another server to
// the local sockets; the client count and each ack go to the replies.
func (b *base) broadcastWithAckFrom(p wire.Packet, o wire.Opts, replyCount func(n int), replyAck func(ack wire.Value)) {
	_ = b.Memory.BroadcastWithAck(bg, packetFromWire(p), adapterOpts(o), replyCount,
		func(args []any) { replyAck(firstArg(args)) })
}
