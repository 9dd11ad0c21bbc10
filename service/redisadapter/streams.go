package redisadapter

import (
	"context"
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
	msgAdapter
	core   *streamsCore
	window time.Duration

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
	err = a.initMsg(c, nsp, wire.ClusterMessage.EncodeMsgpack, "redisadapter: streams: ignoring malformed message",
		func(m wire.ClusterMessage) { a.xadd(m, nil) }, nil, nil)
	if err != nil {
		return nil, err
	}
	a.live.init(a)
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
// or from pub/sub); a MsgBroadcast here is one with acks (ephemeral).
func (a *streamsAdapter) onClusterMessage(m wire.ClusterMessage) {
	if m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	a.onRequest(m)
}

// onMessage receives pub/sub messages (ephemeral messages and responses).
func (a *streamsAdapter) onMessage(channel string, payload []byte) {
	a.receive(channel, payload, a.onClusterMessage)
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
