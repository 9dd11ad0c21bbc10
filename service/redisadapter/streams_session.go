package redisadapter

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// fenceTTL bounds how long a restored socket may take to join its rooms.
const fenceTTL = 30 * time.Second

// fence covers a socket being restored: from the restore until it joins
// its rooms, the entries that reach its rooms are kept (buffer) instead of
// being lost; once it joined, the entries it already got are not
// delivered again (skipUpTo).
type fence struct {
	sid     string
	rooms   []string
	created time.Time

	restored   bool
	missed     []fencedPacket // read with XRANGE by RestoreSession
	lastMissed streamID       // last entry RestoreSession read
	buffer     []fencedPacket // delivered by the reader meanwhile

	joined   bool
	skipUpTo streamID
}

// fencedPacket is an entry's packet (offset included), or an emitter
// broadcast's (emitter: without offset, id is the entry it follows).
type fencedPacket struct {
	id      streamID
	p       *parser.Packet
	emitter bool
}

// applyFences is called with fenceMu held for each delivered entry: it
// buffers the entry for the sockets being restored and excludes the
// restored sockets that got it already. It returns the options to deliver
// with.
func (a *streamsAdapter) applyFences(id string, p *parser.Packet, wopts wire.Opts, opts adapter.BroadcastOptions) adapter.BroadcastOptions {
	eid, ok := parseStreamID(id)
	if !ok {
		return opts
	}
	now := time.Now()
	for sid, f := range a.fences {
		switch {
		case now.Sub(f.created) > fenceTTL:
			delete(a.fences, sid)
		case !f.joined:
			if wire.IncludePacket(f.rooms, wopts) {
				f.buffer = append(f.buffer, fencedPacket{id: eid, p: p})
			}
		case !f.skipUpTo.less(eid):
			opts.Except = append(slices.Clip(opts.Except), sid)
		default:
			delete(a.fences, sid)
		}
	}
	return opts
}

// AddAll adds a socket to rooms. When the socket is being restored, it
// also writes the events it missed, in stream order, before anything the
// reader delivers after the join.
func (a *streamsAdapter) AddAll(id string, rooms []string) {
	a.fenceMu.Lock()
	f := a.fences[id]
	if f == nil || f.joined || !f.restored {
		a.fenceMu.Unlock()
		a.Memory.AddAll(id, rooms)
		a.live.changed(id)
		return
	}
	a.Memory.AddAll(id, rooms)
	f.joined = true
	out := f.missed
	f.skipUpTo = f.lastMissed
	for _, b := range f.buffer {
		switch {
		case b.emitter:
			// not in the stream, so not among the missed: written after
			// them, its offset the last entry written before it
			off := b.id
			if off.less(f.lastMissed) {
				off = f.lastMissed
			}
			out = append(out, fencedPacket{id: off, p: withArg(b.p, off.String())})
		case f.lastMissed.less(b.id):
			out = append(out, b)
			f.skipUpTo = b.id
		}
	}
	f.missed, f.buffer = nil, nil
	if s, ok := a.nsp.Socket(id); ok {
		for _, fp := range out {
			if frames, err := parser.Encode(fp.p); err == nil {
				s.WriteFrames(frames, adapter.BroadcastFlags{})
			}
		}
	}
	a.fenceMu.Unlock()
	a.live.changed(id)
}

// Del removes a socket from a room.
func (a *streamsAdapter) Del(id, room string) {
	a.Memory.Del(id, room)
	a.live.changed(id)
}

// DelAll removes a socket from every room (it disconnected).
func (a *streamsAdapter) DelAll(id string) {
	a.fenceMu.Lock()
	delete(a.fences, id)
	a.fenceMu.Unlock()
	a.Memory.DelAll(id)
	a.live.gone(id)
}

// PersistSession stores s for the recovery window: SET
// sio:session:<pid> base64(msgpack) PX <window>, written asynchronously in
// order with the other writes (Close writes what is queued).
func (a *streamsAdapter) PersistSession(_ context.Context, s *adapter.Session) error {
	if a.window <= 0 {
		return nil
	}
	a.live.persisted(s.SID)
	val := a.encodeSession(s.SID, s.PID, s.Rooms, s.Data)
	if !a.core.enqueue(streamOp{key: wire.DefaultSessionKeyPrefix + s.PID, ttl: a.window,
		value: func() (string, bool) { return val, true }}) {
		return ErrQueueFull
	}
	return nil
}

func (a *streamsAdapter) encodeSession(sid, pid string, rooms []string, data any) string {
	d := wire.Value{}
	if data != nil {
		if v, err := anyToValue(data, 0); err == nil {
			d = v
		}
	}
	return wire.Session{SID: sid, PID: pid, Rooms: rooms, Data: d}.Encode()
}

// RestoreSession takes the session pid (MULTI GET DEL), checks that offset
// is still in the stream and reads the entries after it. It returns nil
// when the session cannot be recovered. The missed events are written when
// the socket joins its rooms (AddAll), with those appended meanwhile.
func (a *streamsAdapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if a.window <= 0 {
		return nil, nil
	}
	from, ok := parseStreamID(offset)
	if !ok {
		return nil, nil // Node: "invalid offset"
	}
	key := wire.DefaultSessionKeyPrefix + pid
	var get *redis.StringCmd
	_, err := a.c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	raw, err := get.Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	stream := a.core.stream
	at, err := a.c.client.XRange(ctx, stream, offset, offset).Result()
	if err != nil {
		return nil, err
	}
	if len(at) == 0 {
		return nil, nil // the offset left the stream (trimmed) or never was in it
	}
	ws, err := wire.DecodeSession(raw)
	if err != nil {
		return nil, err
	}
	if a.Memory.SocketRooms(ws.SID) != nil {
		// The old socket is still connected here (its transport died
		// without this replica noticing yet). Restoring would give two
		// live sockets one id on one replica: the client starts afresh,
		// as it would with Node, where no session exists yet then.
		return nil, nil
	}
	f := &fence{sid: ws.SID, rooms: ws.Rooms, created: time.Now(), lastMissed: from}
	a.fenceMu.Lock()
	a.fences[ws.SID] = f
	a.fenceMu.Unlock()
	missed, last, err := a.readMissed(ctx, ws.Rooms, offset)
	if err != nil {
		a.fenceMu.Lock()
		delete(a.fences, ws.SID)
		a.fenceMu.Unlock()
		return nil, err
	}
	a.fenceMu.Lock()
	f.missed, f.restored = missed, true
	if from.less(last) {
		f.lastMissed = last
	}
	a.fenceMu.Unlock()
	s := &adapter.Session{SID: ws.SID, PID: ws.PID, Rooms: ws.Rooms}
	if !ws.Data.IsUndefined() {
		s.Data = valueToAny(ws.Data)
	}
	return s, nil
}

// readMissed reads the stream after offset and returns the broadcasts that
// reach rooms, each with its id appended, and the last id read.
func (a *streamsAdapter) readMissed(ctx context.Context, rooms []string, offset string) ([]fencedPacket, streamID, error) {
	var out []fencedPacket
	last, _ := parseStreamID(offset)
	next, _ := wire.NextOffset(offset)
	for range restoreMaxCalls {
		entries, err := a.c.client.XRangeN(ctx, a.core.stream, next, "+", restoreCount).Result()
		if err != nil {
			return nil, last, err
		}
		for _, en := range entries {
			if id, ok := parseStreamID(en.ID); ok {
				last = id
			}
			if p := a.replayable(en, rooms); p != nil {
				out = append(out, fencedPacket{id: last, p: p})
			}
		}
		if len(entries) < restoreCount {
			break
		}
		next, _ = wire.NextOffset(entries[len(entries)-1].ID)
	}
	return out, last, nil
}

// replayable returns the packet of a broadcast entry of this namespace that
// reaches rooms, with the entry id appended; nil otherwise.
func (a *streamsAdapter) replayable(en redis.XMessage, rooms []string) *parser.Packet {
	if en.Values["nsp"] != a.name || en.Values["type"] != "3" {
		return nil
	}
	fields := make(map[string]string, len(en.Values))
	for k, v := range en.Values {
		if s, ok := v.(string); ok {
			fields[k] = s
		}
	}
	e, err := wire.DecodeStreamEntry(fields)
	if err != nil {
		return nil
	}
	m, err := e.Message()
	if err != nil || m.RequestID != "" || m.Opts.Volatile() || !validEvent(m.Packet) || !wire.IncludePacket(rooms, m.Opts) {
		return nil
	}
	p := packetFromWire(m.Packet)
	p.Nsp = a.name
	p.Args = append(p.Args, en.ID)
	return p
}
