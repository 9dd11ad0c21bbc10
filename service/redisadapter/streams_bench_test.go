package redisadapter

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// countingSocket counts the frames it gets.
type countingSocket struct {
	nullSocket
	n *atomic.Int64
}

func (s countingSocket) WriteFrames([]parser.Frame, adapter.BroadcastFlags) { s.n.Add(1) }

func benchStreams(b *testing.B, window time.Duration, sockets int) (*streamsAdapter, *atomic.Int64) {
	b.Helper()
	if shared == nil {
		b.Skip("redis-server not installed")
	}
	ns := &benchNS{socks: map[string]adapter.Socket{}}
	c, ad := startAdapter(context.Background(), b, Config{URL: shared.URL(), Mode: ModeStreams, Prefix: "bs" + randomUID(6), RecoveryWindow: window}, ns)
	var n atomic.Int64
	for i := range sockets {
		id := "s" + randomUID(19)
		if i == 0 {
			ns.socks[id] = countingSocket{nullSocket{id}, &n}
		} else {
			ns.socks[id] = nullSocket{id}
		}
		ad.AddAll(id, []string{id, "room"})
	}
	if err := c.WaitReady(context.Background()); err != nil {
		b.Fatal(err)
	}
	return ad.(*streamsAdapter), &n
}

var recoveryCases = []struct {
	name   string
	window time.Duration
}{{"recovery-on", 2 * time.Minute}, {"recovery-off", 0}}

// BenchmarkStreamsRoundTrip is the whole streams path of one broadcast on
// one replica: Broadcast (encode, queue), pipelined XADD, XREAD, decode,
// offset, delivery to the 100 local sockets of the room. ns/op is the
// sustained time per broadcast with b.N in flight.
func BenchmarkStreamsRoundTrip(b *testing.B) {
	for _, rc := range recoveryCases {
		b.Run(rc.name, func(b *testing.B) {
			ad, n := benchStreams(b, rc.window, 100)
			p := func() *parser.Packet {
				return &parser.Packet{Type: parser.Event, Args: []any{"msg", json.RawMessage(`{"ph":1,"s":12,"r":"room","t":1795783041090.123}`)}}
			}
			opts := adapter.BroadcastOptions{Rooms: []string{"room"}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				_ = ad.Broadcast(context.Background(), p(), opts)
				if i%4096 == 0 { // keep the write queue from overflowing
					for n.Load() < int64(i-2048) {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}
			for n.Load() < int64(i) {
				time.Sleep(100 * time.Microsecond)
			}
		})
	}
}

// BenchmarkStreamsDeliver is the receiving side only: one stream entry
// decoded, offset appended (recovery on) and written to 100 sockets.
func BenchmarkStreamsDeliver(b *testing.B) {
	for _, rc := range recoveryCases {
		b.Run(rc.name, func(b *testing.B) {
			ad, _ := benchStreams(b, rc.window, 100)
			msg := redis.XMessage{ID: "1795783041090-0", Values: map[string]any{
				"uid": "other", "nsp": "/", "type": "3",
				"data": `{"packet":{"type":2,"data":["msg",{"ph":1,"s":12,"r":"room","t":1795783041090.123}]},"opts":{"rooms":["room"],"except":[],"flags":{}}}`,
			}}
			b.ReportAllocs()
			for b.Loop() {
				ad.core.dispatch(msg)
			}
		})
	}
}
