package redisadapter

import (
	"context"
	"sync"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// shardedAdapter speaks createShardedAdapter's protocol ("dynamic"
// subscription mode) for one namespace: JSON-encoded ClusterMessages over
// sharded pub/sub, with a channel of its own for each public room.
type shardedAdapter struct {
	msgAdapter

	dynMu sync.Mutex
	dyn   map[string]struct{} // rooms with their own subscribed channel
}

var _ adapter.Adapter = (*shardedAdapter)(nil)

func newSharded(c *Cluster, nsp adapter.Namespace) (*shardedAdapter, error) {
	a := &shardedAdapter{dyn: map[string]struct{}{}}
	err := a.initMsg(c, nsp, wire.ClusterMessage.Encode, "redisadapter: ignoring malformed sharded message",
		func(m wire.ClusterMessage) { a.publish(m) },
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

func (a *shardedAdapter) onMessage(channel string, payload []byte) {
	a.receive(channel, payload, func(m wire.ClusterMessage) {
		if m.Type != wire.MsgBroadcast {
			a.onRequest(m)
			return
		}
		if !validEvent(m.Packet) {
			a.c.m.malformed.Inc()
			return
		}
		if m.RequestID != "" {
			a.onRequest(m) // with acks
			return
		}
		_ = a.Memory.Broadcast(bg, packetFromWire(m.Packet), adapterOpts(m.Opts))
	})
}

// Broadcast publishes p (on the room's own channel when exactly one public
// room is targeted) and delivers it locally.
func (a *shardedAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	return a.broadcast(ctx, p, opts, func(data wire.Value) {
		m := wire.ClusterMessage{Type: wire.MsgBroadcast,
			Packet: wire.Packet{Type: wire.PacketTypeEvent, Data: data}, Opts: wireOpts(opts)}
		ch := a.channel
		if len(m.Opts.Rooms) == 1 && !wire.LooksLikeSocketID(m.Opts.Rooms[0]) {
			ch = a.roomChannel(m.Opts.Rooms[0])
		}
		a.publishOn(ch, m)
	})
}
