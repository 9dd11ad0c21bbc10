package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// nullSocket accepts frames and drops them: the benchmarks measure the
// adapter, not a transport.
type nullSocket struct{ id string }

func (s nullSocket) ID() string                                             { return s.id }
func (nullSocket) WriteFrames([]parser.Frame, adapter.BroadcastFlags)       {}
func (nullSocket) RegisterAck(uint64, time.Duration, adapter.AckFunc) error { return nil }
func (s nullSocket) Info() adapter.SocketInfo                               { return adapter.SocketInfo{ID: s.id} }
func (nullSocket) Disconnect(bool)                                          {}
func (nullSocket) Join(...string)                                           {}
func (nullSocket) Leave(string)                                             {}

type benchNS struct{ socks map[string]adapter.Socket }

func (n *benchNS) Name() string { return "/" }
func (n *benchNS) Socket(id string) (adapter.Socket, bool) {
	s, ok := n.socks[id]
	return s, ok
}
func (n *benchNS) NextAckID() uint64                       { return 1 }
func (n *benchNS) OnServerSideEmit([]any, adapter.AckFunc) {}

func benchAdapter(b *testing.B, mode Mode, sockets int) (adapter.Adapter, *Cluster) {
	b.Helper()
	if shared == nil {
		b.Skip("redis-server not installed")
	}
	ns := &benchNS{socks: map[string]adapter.Socket{}}
	c, ad := startAdapter(context.Background(), b, Config{URL: shared.URL(), Mode: mode, Prefix: "b" + randomUID(6)}, ns)
	for i := range sockets {
		id := fmt.Sprintf("s%019d", i)
		ns.socks[id] = nullSocket{id}
		ad.AddAll(id, []string{id, "room"})
	}
	return ad, c
}

// BenchmarkReceiveBroadcast is the per-replica cost of a broadcast from
// another node: decode, convert, encode the Socket.IO packet once, hand
// it to every local socket of the room (100 here).
func BenchmarkReceiveBroadcast(b *testing.B) {
	for _, mode := range modes {
		b.Run(string(mode), func(b *testing.B) {
			if mode == ModeStreams {
				b.Skip("streams entries come from XREAD: see BenchmarkStreamsDeliver")
			}
			ad, c := benchAdapter(b, mode, 100)
			data, _ := wire.ParseJSON([]byte(`["msg",{"ph":1,"s":12,"r":"room","t":1795783041090.123}]`))
			opts := wire.Opts{Rooms: []string{"room"}, Except: []string{}, Flags: wire.MapValue()}
			var raw []byte
			var channel string
			if mode == ModeSharded {
				raw = wire.ClusterMessage{Type: wire.MsgBroadcast, UID: "other", NSP: "/", Packet: wire.Packet{Type: 2, Data: data}, Opts: opts}.Encode()
				channel = wire.ShardedRoomChannel(c.cfg.Prefix, "/", "room")
			} else {
				raw = wire.Broadcast{UID: "other", Packet: wire.Packet{Type: 2, Data: data, NSP: "/"}, Opts: opts}.Encode()
				channel = wire.BroadcastChannel(c.cfg.Prefix, "/", []string{"room"})
			}
			b.ReportAllocs()
			for b.Loop() {
				c.dispatch(channel, raw)
			}
			_ = ad
		})
	}
}

// BenchmarkPublishBroadcast is the sender's cost to publish one broadcast
// (encode and queue; the pipeline runs on the publisher goroutine), with
// no local socket in the room.
func BenchmarkPublishBroadcast(b *testing.B) {
	for _, mode := range modes {
		b.Run(string(mode), func(b *testing.B) {
			ad, _ := benchAdapter(b, mode, 0)
			p := &parser.Packet{Type: parser.Event, Args: []any{"msg", json.RawMessage(`{"ph":1,"s":12,"r":"room","t":1795783041090.123}`)}}
			opts := adapter.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"s0000000000000000001"}}
			b.ReportAllocs()
			for b.Loop() {
				if err := ad.Broadcast(context.Background(), p, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
