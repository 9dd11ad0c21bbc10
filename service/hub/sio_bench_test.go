package hub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// benchNS / benchSocket are a minimal namespace of no-op sockets, to measure
// what delivery accounting adds to a fan-out through adapter.Memory.
type benchNS struct{ socks map[string]*benchSocket }

func (n *benchNS) Name() string { return "/" }
func (n *benchNS) Socket(id string) (adapter.Socket, bool) {
	s, ok := n.socks[id]
	return s, ok
}
func (n *benchNS) NextAckID() uint64                           { return 0 }
func (n *benchNS) OnServerSideEmit(_ []any, _ adapter.AckFunc) {}

// benchSocket queues nothing; with obs set it then reports the write, as
// socketio's socket does once a packet is queued (Config.Observer).
type benchSocket struct {
	id     string
	obs    socketio.Observer
	writes atomic.Int64
}

func (s *benchSocket) ID() string { return s.id }
func (s *benchSocket) WriteFrames(_ []parser.Frame, _ adapter.BroadcastFlags) {
	s.writes.Add(1)
	if s.obs != nil {
		s.obs.EventWritten()
	}
}
func (s *benchSocket) RegisterAck(uint64, time.Duration, adapter.AckFunc) error { return nil }
func (s *benchSocket) Info() adapter.SocketInfo                                 { return adapter.SocketInfo{ID: s.id} }
func (s *benchSocket) Disconnect(bool)                                          {}
func (s *benchSocket) Join(...string)                                           {}
func (s *benchSocket) Leave(string)                                             {}

// wrapperFactory is how the hub counted deliveries before the socketio
// Observer existed, kept here as the benchmark's baseline: the adapter's
// namespace view wrapped every socket it looked up in a counting socket, one
// 24-byte allocation per delivery.
func wrapperFactory(f adapter.Factory, m *Metrics) adapter.Factory {
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		return f(wrapperNamespace{Namespace: nsp, m: m})
	}
}

type wrapperNamespace struct {
	adapter.Namespace
	m *Metrics
}

func (n wrapperNamespace) Socket(id string) (adapter.Socket, bool) {
	s, ok := n.Namespace.Socket(id)
	if !ok {
		return s, ok
	}
	return wrapperSocket{Socket: s, m: n.m}, true
}

type wrapperSocket struct {
	adapter.Socket
	m *Metrics
}

func (s wrapperSocket) WriteFrames(frames []parser.Frame, flags adapter.BroadcastFlags) {
	s.m.messagesOut.Inc()
	s.Socket.WriteFrames(frames, flags)
}

// BenchmarkFanout1000 broadcasts one event to a room of 1000 sockets through
// adapter.Memory: without accounting (none), with the former per-delivery
// socket wrapper (wrapper), and with the socketio Observer the hub now uses
// (observer). All three run in one invocation, so they compare on the same
// machine load:
//
//	go test -run '^$' -bench Fanout1000 -benchmem ./service/hub/
func BenchmarkFanout1000(b *testing.B) {
	for _, accounting := range []string{"none", "wrapper", "observer"} {
		b.Run("accounting="+accounting, func(b *testing.B) {
			ns := &benchNS{socks: map[string]*benchSocket{}}
			f := adapter.MemoryFactory
			m := NewMetrics()
			var obs socketio.Observer
			switch accounting {
			case "wrapper":
				f = wrapperFactory(f, m)
			case "observer":
				obs = m
			}
			ad, err := f(ns)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				id := "s" + strconv.Itoa(i)
				ns.socks[id] = &benchSocket{id: id, obs: obs}
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
			b.StopTimer()
			got := counter(b, m, "hub_messages_out_total")
			if want := 1000 * float64(b.N); accounting != "none" && got != want {
				b.Fatalf("hub_messages_out_total = %v, want %v", got, want)
			}
		})
	}
}

// BenchmarkIdleConnHeap measures the Go heap held per idle websocket
// connection (client side included: the clients live in this process), for
// a plain socketio server and for the hub's Socket.IO stack (contract
// handlers, session, grants); the difference is what the hub adds per
// connection. Run with -benchtime=1x:
//
//	go test -run '^$' -bench IdleConnHeap -benchtime=1x ./service/hub/
func BenchmarkIdleConnHeap(b *testing.B) {
	const n = 500
	for _, stack := range []string{"socketio", "hub"} {
		b.Run(stack, func(b *testing.B) {
			for range b.N {
				var h http.Handler
				var closeFn func()
				if stack == "hub" {
					x, err := NewSocketIO(SocketIOConfig{Settings: testSettings()})
					if err != nil {
						b.Fatal(err)
					}
					h, closeFn = x, func() { _ = x.Close(context.Background()) }
				} else {
					srv, err := socketio.New(socketio.Config{})
					if err != nil {
						b.Fatal(err)
					}
					srv.OnConnection(func(s *socketio.Socket) {})
					h, closeFn = srv, func() { _ = srv.Close() }
				}
				ts := httptest.NewServer(h)
				before := heapInUse()
				conns := make([]*websocket.Conn, 0, n)
				for range n {
					conns = append(conns, rawConnect(b, ts.URL))
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/n, "heapB/conn")
				for _, c := range conns {
					_ = c.CloseNow()
				}
				closeFn()
				ts.Close()
			}
		})
	}
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// rawConnect opens a websocket Socket.IO connection to "/" and reads the
// CONNECT ack.
func rawConnect(b *testing.B, url string) *websocket.Conn {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil { // open packet
		b.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		b.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(msg), "40") {
		b.Fatalf("connect: %q %v", msg, err)
	}
	return c
}
