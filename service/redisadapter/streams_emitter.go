package redisadapter

import (
	"slices"
	"strings"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// @socket.io/redis-emitter in streams mode.
//
// The emitter speaks only the classic protocol: it PUBLISHes msgpack
// [uid "emitter", packet, opts] on "<prefix>#<nsp>#", or on
// "<prefix>#<nsp>#<room>#" when exactly one room is targeted, and JSON
// requests on "<prefix>-request#<nsp>#" (socketsJoin, socketsLeave and
// disconnectSockets without uid, serverSideEmit with uid "emitter"). It
// never reads anything back.
//
// Every replica takes these messages from pub/sub, like classic replicas
// do, and applies them to its own local sockets only: each client gets a
// broadcast once, from its own replica. Nothing goes to the stream (there
// is no way to elect the one replica that would append a message without
// an id of its own), so an emitter broadcast is not replayed to a client
// that recovers after missing it. A Node replica on
// @socket.io/redis-streams-adapter ignores these messages (an array has no
// nsp), so its clients do not get them.
//
// Channels: "<prefix>#<nsp>#" is already subscribed for the ephemeral
// ClusterMessages (msgpack maps, told apart from the emitter's arrays by
// their first byte); the room channels are taken with one PSUBSCRIBE
// "<prefix>#<nsp>#*" per namespace, as Node's classic adapter does. The
// pattern matches "<prefix>#<nsp>#" and the response channels too:
// onPatternMessage keeps only emitter broadcasts on room channels, so
// every message is handled once. The replicas' responses (maps) that the
// pattern brings are dropped on their first byte; that is the price of the
// pattern: every replica receives every response of the cluster (measured
// with three replicas: a broadcast with acks to 200 sockets of replica A
// sent from B made the uninvolved replica C receive 204 messages instead
// of about 2).
//
// Offsets: with recovery on, socket.io-client takes the last string
// argument of any event as its offset. An emitter event without one would
// make e.g. io.emit("news", "hello") set the offset to "hello" and the
// next recovery would fail. So a non-volatile emitter broadcast carries
// the id of the last entry this namespace delivered (streamsAdapter.
// delivered), and is delivered under fenceMu like the entries: every
// entry up to that id was written to the sockets before it, and a
// recovery from it replays exactly what follows. Sockets being restored
// get it through the fences, in order, with the offset they will have
// reached by then. When no entry is known yet (an empty or unreadable
// stream when the replica started, and no broadcast since) it goes
// without offset.

// isMsgpackArray reports whether payload starts with a msgpack array
// (fixarray, array 16 or array 32): redis-emitter's [uid, packet, opts].
func isMsgpackArray(payload []byte) bool {
	return len(payload) > 0 && (payload[0]&0xf0 == 0x90 || payload[0] == 0xdc || payload[0] == 0xdd)
}

// onPatternMessage receives what the PSUBSCRIBE brings: redis-emitter's
// broadcasts to one room are handled, the rest comes through the exact
// subscriptions or is not for this server.
func (a *streamsAdapter) onPatternMessage(channel string, payload []byte) {
	if channel == a.channel || channel == a.respChannel || !strings.HasPrefix(channel, a.channel) || !isMsgpackArray(payload) {
		return
	}
	room := strings.TrimSuffix(channel[len(a.channel):], "#")
	if !a.hasRoom(room) && !a.restoring() {
		return
	}
	a.onEmitterBroadcast(payload)
}

// restoring reports whether a socket is being restored (fenced).
func (a *streamsAdapter) restoring() bool {
	a.fenceMu.Lock()
	defer a.fenceMu.Unlock()
	return len(a.fences) > 0
}

func (a *streamsAdapter) emitterMalformed(what string, err error) {
	a.c.m.malformed.Inc()
	a.c.log.Debug("redisadapter: streams: ignoring malformed emitter "+what, "nsp", a.name, "err", err)
}

// onEmitterBroadcast decodes a classic broadcast and delivers it when it
// comes from redis-emitter. One from a classic replica sharing the prefix
// (a HUB_REDIS_MODE mismatch) is ignored.
func (a *streamsAdapter) onEmitterBroadcast(payload []byte) {
	b, err := wire.DecodeBroadcast(payload)
	if err != nil {
		a.emitterMalformed("broadcast", err)
		return
	}
	if b.UID != wire.EmitterUID {
		a.c.log.Debug("redisadapter: streams: ignoring a classic broadcast that is not redis-emitter's (a classic replica on this prefix?)", "nsp", a.name, "uid", b.UID)
		return
	}
	if b.Packet.NSP != a.name {
		return
	}
	if !validEvent(b.Packet) {
		a.emitterMalformed("broadcast", errInvalidEvent)
		return
	}
	a.deliverEmitter(b)
}

// deliverEmitter writes an emitter broadcast to the local targets; with
// recovery on and unless volatile, with the last delivered entry's id as
// offset (see the comment at the top of the file).
func (a *streamsAdapter) deliverEmitter(b wire.Broadcast) {
	p := packetFromWire(b.Packet)
	p.Nsp = a.name
	opts := adapterOpts(b.Opts)
	withOffset := a.window > 0 && !opts.Flags.Volatile
	a.fenceMu.Lock()
	defer a.fenceMu.Unlock()
	at, _ := parseStreamID(a.delivered) // zero when none
	out := p
	if withOffset && a.delivered != "" {
		out = withArg(p, a.delivered)
	}
	if len(a.fences) > 0 && withOffset {
		opts = a.fenceEmitter(p, at, b.Opts, opts)
	}
	_ = a.Memory.Broadcast(bg, out, opts)
}

// fenceEmitter is applyFences for an emitter broadcast p (without offset)
// positioned right after entry at: a socket being restored gets it after
// its missed events (AddAll), with an offset it reached; a socket restored
// already that got entries beyond at gets it with the offset of the last
// one, as it must not go back. Called with fenceMu held; it returns the
// options for the other sockets.
func (a *streamsAdapter) fenceEmitter(p *parser.Packet, at streamID, wopts wire.Opts, opts adapter.BroadcastOptions) adapter.BroadcastOptions {
	now := time.Now()
	for sid, f := range a.fences {
		switch {
		case now.Sub(f.created) > fenceTTL:
			delete(a.fences, sid)
		case !f.joined:
			if wire.IncludePacket(f.rooms, wopts) {
				f.buffer = append(f.buffer, fencedPacket{id: at, p: p, emitter: true})
			}
		case at.less(f.skipUpTo):
			rooms := a.Memory.SocketRooms(sid)
			if rooms == nil || !wire.IncludePacket(rooms, wopts) {
				continue
			}
			opts.Except = append(slices.Clip(opts.Except), sid)
			if s, ok := a.nsp.Socket(sid); ok {
				if frames, err := parser.Encode(withArg(p, f.skipUpTo.String())); err == nil {
					s.WriteFrames(frames, opts.Flags)
				}
			}
		}
	}
	return opts
}

// withArg returns a copy of p with arg appended to its arguments.
func withArg(p *parser.Packet, arg string) *parser.Packet {
	q := *p
	q.Args = append(slices.Clip(p.Args), arg)
	return &q
}

// onEmitterRequest applies redis-emitter's socketsJoin, socketsLeave and
// disconnectSockets (no uid) and serverSideEmit (uid "emitter", never an
// ack) to this server. Requests of classic replicas are not for this mode.
func (a *streamsAdapter) onEmitterRequest(payload []byte) {
	r, err := wire.DecodeRequest(payload)
	if err != nil {
		a.emitterMalformed("request", err)
		return
	}
	if r.UID != "" && r.UID != wire.EmitterUID {
		return
	}
	if op, ok := classicOp(r.Type); ok && r.Opts != nil {
		a.applyOp(op, *r.Opts, r.Rooms, r.Close)
		return
	}
	if r.Type == wire.ReqServerSideEmit && r.RequestID == "" {
		a.serverSideEmitLocal(valueToArgs(r.Data), nil)
	}
}
