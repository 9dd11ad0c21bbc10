package hub

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// benchNS / benchSocket are a minimal namespace of no-op sockets, to measure
// what countingFactory adds to a fan-out.
type benchNS struct{ socks map[string]*benchSocket }

func (n *benchNS) Name() string { return "/" }
func (n *benchNS) Socket(id string) (adapter.Socket, bool) {
	s, ok := n.socks[id]
	return s, ok
}
func (n *benchNS) NextAckID() uint64                           { return 0 }
func (n *benchNS) OnServerSideEmit(_ []any, _ adapter.AckFunc) {}

type benchSocket struct {
	id     string
	writes atomic.Int64
}

func (s *benchSocket) ID() string { return s.id }
func (s *benchSocket) WriteFrames(_ []parser.Frame, _ adapter.BroadcastFlags) {
	s.writes.Add(1)
}
func (s *benchSocket) RegisterAck(uint64, time.Duration, adapter.AckFunc) error { return nil }
func (s *benchSocket) Info() adapter.SocketInfo                                 { return adapter.SocketInfo{ID: s.id} }
func (s *benchSocket) Disconnect(bool)                                          {}
func (s *benchSocket) Join(...string)                                           {}
func (s *benchSocket) Leave(string)                                             {}

// BenchmarkFanout1000 broadcasts one event to a room of 1000 sockets through
// adapter.Memory, without and with the hub's delivery counting.
func BenchmarkFanout1000(b *testing.B) {
	for _, counted := range []bool{false, true} {
		b.Run("counted="+strconv.FormatBool(counted), func(b *testing.B) {
			ns := &benchNS{socks: map[string]*benchSocket{}}
			f := adapter.MemoryFactory
			m := NewMetrics()
			if counted {
				f = countingFactory(f, m)
			}
			ad, err := f(ns)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				id := "s" + strconv.Itoa(i)
				ns.socks[id] = &benchSocket{id: id}
				ad.AddAll(id, []string{id, "room"})
			}
			p := &parser.Packet{Type: parser.Event, Args: []any{"msg", map[string]int{"n": 1}}}
			opts := adapter.BroadcastOptions{Rooms: []string{"room"}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := ad.Broadcast(context.Background(), p, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
