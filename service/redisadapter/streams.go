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
//
// @socket.io/redis-emitter works in this mode too, though it only speaks
// the classic protocol (there is no streams emitter): every replica also
// listens to the emitter's channels — msgpack [uid, packet, opts] on
// "socket.io#<nsp>#" and, PSUBSCRIBEd, "socket.io#<nsp>#<room>#"; JSON
// socketsJoin/socketsLeave/disconnectSockets/serverSideEmit on
// "socket.io-request#<nsp>#" — and applies what it sends to its own local
// sockets, as classic replicas do. See streams_emitter.go. Emitter
// broadcasts are not in the stream, so they are not replayed on recovery;
// with recovery on they carry as offset the id of the last entry the
// replica delivered before them, so that a client's offset stays one a
// recovery can resume from.
type streamsAdapter struct {
	msgAdapter
	core   *streamsCore
	window time.Duration

	// fenceMu is held while an entry or an emitter broadcast is delivered
	// and while a restored socket joins its rooms.
	fenceMu sync.Mutex
	fences  map[string]*fence // by socket id
	// delivered is the id of the last entry of this namespace delivered
	// to the local sockets (or, before the first one, of the last entry
	// the reader had passed when the namespace was added; "" when none is
	// known): the offset an emitter broadcast carries (streams_emitter.go).
	delivered string

	reqChannel string // socket.io-request#<nsp>#, where redis-emitter sends its requests
	pattern    string // socket.io#<nsp>#*, redis-emitter's room channels

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
	a.reqChannel = wire.RequestChannel(c.cfg.Prefix, a.name)
	a.pattern = wire.BroadcastPattern(c.cfg.Prefix, a.name)
	a.fenceMu.Lock() // no entry is delivered to a before delivered is set
	a.delivered = core.add(a)
	a.fenceMu.Unlock()
	c.register(a.channel, a)
	c.register(a.reqChannel, a)
	ctx := context.Background()
	err = c.subscribe(ctx, subChannel, a.channel, a.respChannel, a.reqChannel)
	if err == nil {
		err = c.subscribe(ctx, subPattern, a.pattern)
	}
	if err != nil {
		core.remove(a)
		c.unregister(a.channel)
		c.unregister(a.reqChannel)
		return nil, err
	}
	return a, nil
}

// Close stops following the namespace.
func (a *streamsAdapter) Close() error {
	a.closeOnce.Do(func() {
		a.live.stopRefresh()
		a.core.remove(a)
		ctx := context.Background()
		a.c.unsubscribe(ctx, subChannel, a.channel, a.respChannel, a.reqChannel)
		a.c.unsubscribe(ctx, subPattern, a.pattern)
		a.c.unregister(a.channel)
		a.c.unregister(a.reqChannel)
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
	if m.Type == wire.MsgBroadcast && !validEvent(m.Packet) {
		a.c.m.malformed.Inc()
		a.c.log.Debug("redisadapter: streams: ignoring an entry that is not a valid EVENT", "id", id)
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
	a.delivered = id
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
	if m.Type == wire.MsgBroadcast && !validEvent(m.Packet) {
		a.c.m.malformed.Inc() // every receiving client would drop its connection
		return
	}
	a.onRequest(m)
}

// onMessage receives the messages of the exact subscriptions: ephemeral
// messages and responses, and redis-emitter's broadcasts to no room or
// several and its requests (streams_emitter.go).
func (a *streamsAdapter) onMessage(channel string, payload []byte) {
	switch {
	case channel == a.reqChannel:
		a.onEmitterRequest(payload)
	case channel == a.channel && isMsgpackArray(payload):
		a.onEmitterBroadcast(payload) // a ClusterMessage is a map
	default:
		a.receive(channel, payload, a.onClusterMessage)
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
