package socketio

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// countingObserver counts what the server reports.
type countingObserver struct {
	events, ackTimeouts atomic.Int64
}

func (o *countingObserver) EventWritten() { o.events.Add(1) }
func (o *countingObserver) AckTimedOut()  { o.ackTimeouts.Add(1) }

func TestObserverEventWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run makes the server write to a (in lobby), b (in lobby) and
		// c; it returns how many frames each client must read first.
		run  func(t *testing.T, srv *Server, s map[string]*Socket) map[string]int
		want int64
	}{
		{"broadcast to a room counts each target", func(t *testing.T, srv *Server, _ map[string]*Socket) map[string]int {
			must(t, srv.To("lobby").Emit("m", 1))
			return map[string]int{"a": 1, "b": 1}
		}, 2},
		{"broadcast to everyone but one", func(t *testing.T, _ *Server, s map[string]*Socket) map[string]int {
			must(t, s["a"].Broadcast().Emit("m"))
			return map[string]int{"b": 1, "c": 1}
		}, 2},
		{"binary broadcast counts once per target", func(t *testing.T, srv *Server, _ map[string]*Socket) map[string]int {
			must(t, srv.To("lobby").Emit("bin", []byte{1, 2, 3}))
			return map[string]int{"a": 2, "b": 2} // header + attachment
		}, 2},
		{"socket emit, with and without ack id", func(t *testing.T, _ *Server, s map[string]*Socket) map[string]int {
			must(t, s["c"].Emit("m"))
			must(t, s["c"].Emit("q", func(Args) {}))
			return map[string]int{"c": 2}
		}, 2},
		{"an ack reply to the client is not an event", func(t *testing.T, _ *Server, s map[string]*Socket) map[string]int {
			return map[string]int{}
		}, 0},
		{"broadcast to an empty room", func(t *testing.T, srv *Server, _ map[string]*Socket) map[string]int {
			must(t, srv.To("nobody").Emit("m"))
			return map[string]int{}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := &countingObserver{}
			srv, conns, socks := chatWith(t, Config{Observer: obs})
			reads := tt.run(t, srv, socks)
			for name, n := range reads {
				for range n {
					conns[name].recv()
				}
			}
			// The client-to-server ack below is answered with an ACK packet
			// on c's connection: never counted. A marker to c proves every
			// earlier write happened.
			socks["c"].On("ping", func(_ Args, ack AckFunc) { _ = ack("pong") })
			conns["c"].send(`29["ping"]`)
			conns["c"].expect(`39["pong"]`)
			if got := obs.events.Load(); got != tt.want {
				t.Fatalf("EventWritten called %d times, want %d", got, tt.want)
			}
			if got := obs.ackTimeouts.Load(); got != 0 {
				t.Fatalf("AckTimedOut called %d times", got)
			}
		})
	}
}

func TestObserverVolatileOnClosedConnection(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	srv := newTestServer(t, Config{Observer: obs})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, srv)
	c.connect("/")
	s := <-sockets
	c.f.c.closed.Store(true) // the transport is gone, onClose not yet run
	if err := s.Volatile().Emit("dropped"); err != nil {
		t.Fatal(err)
	}
	if got := obs.events.Load(); got != 0 {
		t.Fatalf("a dropped volatile event was counted (%d)", got)
	}
	c.f.CloseWithReason(ReasonTransportClose)
	waitFor(t, func() bool { return !s.Connected() })
}

func TestObserverAckTimedOut(t *testing.T) {
	t.Parallel()
	const short = 20 * time.Millisecond
	tests := []struct {
		name string
		// run asks for acks that a, b and c (silent clients) never send,
		// except where the test answers; it returns when the outcome is
		// known to the caller.
		run  func(t *testing.T, srv *Server, conns map[string]*testConn, s map[string]*Socket)
		want int64
	}{
		{"socket Timeout emit never acked", func(t *testing.T, _ *Server, conns map[string]*testConn, s map[string]*Socket) {
			errs := make(chan error, 1)
			must(t, s["a"].Timeout(short).Emit("q", func(err error, _ Args) { errs <- err }))
			conns["a"].expect(`20["q"]`)
			if err := <-errs; !errors.Is(err, ErrAckTimeout) {
				t.Fatalf("err %v", err)
			}
		}, 1},
		{"socket Timeout emit acked in time", func(t *testing.T, _ *Server, conns map[string]*testConn, s map[string]*Socket) {
			errs := make(chan error, 1)
			must(t, s["a"].Timeout(time.Hour).Emit("q", func(err error, _ Args) { errs <- err }))
			conns["a"].expect(`20["q"]`)
			conns["a"].send(`30["ok"]`)
			if err := <-errs; err != nil {
				t.Fatalf("err %v", err)
			}
		}, 0},
		{"broadcast Timeout counts each silent target", func(t *testing.T, srv *Server, conns map[string]*testConn, _ map[string]*Socket) {
			errs := make(chan error, 1)
			must(t, srv.Timeout(short).Emit("q", func(err error, _ []Args) { errs <- err }))
			for _, n := range []string{"a", "b", "c"} {
				conns[n].expect(`20["q"]`)
			}
			conns["c"].send(`30["rc"]`)
			if err := <-errs; !errors.Is(err, ErrAckTimeout) {
				t.Fatalf("err %v", err)
			}
		}, 2},
		{"EmitWithAck past its deadline", func(t *testing.T, _ *Server, conns map[string]*testConn, s map[string]*Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), short)
			defer cancel()
			if _, err := s["b"].EmitWithAck(ctx, "q"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v", err)
			}
			conns["b"].expect(`20["q"]`)
		}, 1},
		{"EmitWithAck canceled is no timeout", func(t *testing.T, _ *Server, conns map[string]*testConn, s map[string]*Socket) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := s["b"].EmitWithAck(ctx, "q"); !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v", err)
			}
			conns["b"].expect(`20["q"]`)
		}, 0},
		{"pending ack of a disconnected socket is no timeout", func(t *testing.T, _ *Server, conns map[string]*testConn, s map[string]*Socket) {
			errs := make(chan error, 1)
			must(t, s["c"].Timeout(time.Hour).Emit("q", func(err error, _ Args) { errs <- err }))
			conns["c"].expect(`20["q"]`)
			conns["c"].send("1")
			if err := <-errs; !errors.Is(err, ErrDisconnected) {
				t.Fatalf("err %v", err)
			}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := &countingObserver{}
			srv, conns, socks := chatWith(t, Config{Observer: obs})
			tt.run(t, srv, conns, socks)
			// Per-socket timers may fire just after the broadcast's own
			// timer: poll until the count is reached, then check it stays
			// there (nothing else is pending but hour-long timers).
			waitFor(t, func() bool { return obs.ackTimeouts.Load() >= tt.want })
			if got := obs.ackTimeouts.Load(); got != tt.want {
				t.Fatalf("AckTimedOut called %d times, want %d", got, tt.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
