package socketio

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// discardConn accepts frames and counts them, like an Engine.IO session
// whose queue always has room.
type discardConn struct {
	id     string
	frames atomic.Int64
}

func (d *discardConn) ID() string        { return d.id }
func (d *discardConn) Transport() string { return "websocket" }
func (d *discardConn) Send(f []parser.Frame) error {
	d.frames.Add(int64(len(f)))
	return nil
}
func (d *discardConn) CloseWithReason(string) {}

// BenchmarkBroadcast measures io.To(room).Emit to n connected sockets: the
// packet is encoded once and the same bytes are queued on every socket.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv, err := newServer(Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			srv.OnConnection(func(s *Socket) { s.Join("room") })
			conns := make([]*discardConn, n)
			for i := range conns {
				conns[i] = &discardConn{id: fmt.Sprint(i)}
				c := srv.newClient(conns[i], Handshake{})
				c.onFrame(parser.Frame{Data: []byte("0")})
			}
			if got := len(srv.Sockets().Adapter().Sockets([]string{"room"})); got != n {
				b.Fatalf("%d sockets in room", got)
			}
			payload := json.RawMessage(`{"room":"room","text":"hello world","n":42}`)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := srv.To("room").Emit("message", payload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkBroadcastObserver measures what Config.Observer costs a fan-out
// to 1000 sockets: one EventWritten call per delivery, no allocation.
func BenchmarkBroadcastObserver(b *testing.B) {
	for _, observed := range []bool{false, true} {
		b.Run(fmt.Sprintf("observer=%v", observed), func(b *testing.B) {
			cfg := Config{}
			obs := &countingObserver{}
			if observed {
				cfg.Observer = obs
			}
			srv, err := newServer(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			srv.OnConnection(func(s *Socket) { s.Join("room") })
			for i := range 1000 {
				c := srv.newClient(&discardConn{id: fmt.Sprint(i)}, Handshake{})
				c.onFrame(parser.Frame{Data: []byte("0")})
			}
			payload := json.RawMessage(`{"room":"room","text":"hello world","n":42}`)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := srv.To("room").Emit("message", payload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if want := int64(b.N) * 1000; observed && obs.events.Load() != want {
				b.Fatalf("EventWritten called %d times, want %d", obs.events.Load(), want)
			}
		})
	}
}

// BenchmarkEventRoundTrip measures one client event decoded, dispatched to
// its handler and echoed back (encode + queue).
func BenchmarkEventRoundTrip(b *testing.B) {
	srv, err := newServer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(args Args, _ AckFunc) { _ = s.Emit("echo", args...) })
	})
	conn := &discardConn{id: "c"}
	c := srv.newClient(conn, Handshake{})
	c.onFrame(parser.Frame{Data: []byte("0")})
	frame := parser.Frame{Data: []byte(`2["echo",{"room":"lobby","text":"hello world","n":42}]`)}
	b.ReportAllocs()
	for b.Loop() {
		c.onFrame(frame)
	}
}
