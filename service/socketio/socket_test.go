package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConnectFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []string
		want   []string // expected frames; "SID" matches a connect ack
		closed bool
	}{
		{"main namespace", []string{"0"}, []string{"0SID"}, false},
		{"custom with comma", []string{"0/custom,"}, []string{"0/custom,SID"}, false},
		{"custom without comma", []string{"0/custom"}, []string{"0/custom,SID"}, false},
		{"invalid namespace", []string{"0/random,"}, []string{`4/random,{"message":"Invalid namespace"}`}, false},
		{"event before connect", []string{`2["hello"]`}, nil, true},
		{"connect twice", []string{"0", "0"}, []string{"0SID"}, true},
		{"invalid packet type", []string{"0", "9"}, []string{"0SID"}, true},
		{"reserved event", []string{"0", `2["disconnect"]`}, []string{"0SID"}, true},
		{"client connect_error", []string{"0", `4{"message":"x"}`}, []string{"0SID"}, true},
		{"nothing after an invalid packet", []string{"0", "9", "0/custom,"}, []string{"0SID"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, Config{})
			srv.Of("/custom")
			c := dial(t, srv)
			for _, f := range tt.frames {
				c.send(f)
			}
			for _, w := range tt.want {
				got := string(c.recv().Data)
				if strings.HasSuffix(w, "SID") {
					prefix := strings.TrimSuffix(w, "SID") + `{"sid":"`
					if !strings.HasPrefix(got, prefix) || len(got) != len(prefix)+20+2 {
						t.Fatalf("got %q, want connect ack %q...", got, prefix)
					}
					continue
				}
				if got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
			if tt.closed {
				if r := c.waitClosed(); r != ReasonParseError {
					t.Fatalf("close reason %q", r)
				}
				c.f.mu.Lock()
				extra := c.f.out[c.next:]
				c.f.mu.Unlock()
				if len(extra) > 0 {
					t.Fatalf("frames after the invalid packet: %q", extra[0].Data)
				}
				if n := len(srv.Of("/custom").Sockets()); n != 0 {
					t.Fatalf("%d sockets connected after the invalid packet", n)
				}
			} else if _, closed := c.closeReason(); closed {
				t.Fatal("connection closed")
			}
		})
	}
}

func TestAuthPayloadBytes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{})
	got := make(chan string, 1)
	srv.OnConnection(func(s *Socket) { got <- string(s.Handshake().Auth) })
	c := dial(t, srv)
	c.send(`0{"z":1, "a":{"y":[2,"x"]}}`)
	c.recv()
	if a := <-got; a != `{"z":1, "a":{"y":[2,"x"]}}` {
		t.Fatalf("auth %q", a)
	}
}

func TestMiddlewareRejection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain error", errors.New("not authorized"), `4{"message":"not authorized"}`},
		{"with data", &ConnectError{Message: "denied", Data: map[string]any{"code": 42}}, `4{"message":"denied","data":{"code":42}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, Config{})
			connected := false
			srv.Use(func(s *Socket) error { s.Join("vip"); return nil })
			srv.Use(func(s *Socket) error { return tt.err })
			srv.OnConnection(func(*Socket) { connected = true })
			c := dial(t, srv)
			c.send("0")
			c.expect(tt.want)
			if connected {
				t.Fatal("connection handler ran")
			}
			if rooms := srv.Sockets().Adapter().Rooms(); len(rooms) != 0 {
				t.Fatalf("rejected socket left rooms %v", rooms)
			}
			// the client may retry on the same connection
			c.send("0")
			c.expect(tt.want)
		})
	}
}

func TestEventsAndAcks(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{})
	srv.Of("/custom").OnConnection(func(s *Socket) {
		s.On("message", func(args Args, ack AckFunc) { _ = s.Emit("message-back", []any(args)...) })
		s.On("message-with-ack", func(args Args, ack AckFunc) {
			if ack != nil {
				_ = ack([]any(args)...)
				if err := ack(); !errors.Is(err, ErrAckAlreadySent) {
					t.Errorf("second ack: %v", err)
				}
			}
		})
	})
	c := dial(t, srv)
	c.connect("/custom")
	c.send(`2/custom,["message",1,"2",{"3":[true], "0":null}]`)
	c.expect(`2/custom,["message-back",1,"2",{"3":[true], "0":null}]`)
	c.send(`2/custom,456["message-with-ack",1,"2",{"3":[true]}]`)
	c.expect(`3/custom,456[1,"2",{"3":[true]}]`)
	// binary both ways
	c.send(`51-/custom,["message",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.expect(`51-/custom,["message-back",{"_placeholder":true,"num":0}]`)
	if b := c.recv(); !b.Binary || string(b.Data) != "\x01\x02\x03" {
		t.Fatalf("attachment %v", b)
	}
	c.send(`51-/custom,7["message-with-ack",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{4})
	c.expect(`61-/custom,7[{"_placeholder":true,"num":0}]`)
	if b := c.recv(); !b.Binary || string(b.Data) != "\x04" {
		t.Fatalf("attachment %v", b)
	}
}

func TestServerToClientAck(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, srv)
	c.connect("/")
	s := <-sockets

	got := make(chan string, 2)
	if err := s.Emit("question", "q1", func(a Args) { got <- string(a.Raw(0)) }); err != nil {
		t.Fatal(err)
	}
	c.expect(`20["question","q1"]`)
	c.send(`30["answer"]`)
	if a := <-got; a != `"answer"` {
		t.Fatalf("ack %q", a)
	}
	c.send(`30["late duplicate"]`) // ignored: already answered

	errs := make(chan error, 1)
	if err := s.Timeout(20*time.Millisecond).Emit("question", func(err error, a Args) { errs <- err }); err != nil {
		t.Fatal(err)
	}
	c.expect(`21["question"]`)
	if err := <-errs; !errors.Is(err, ErrAckTimeout) {
		t.Fatalf("err %v", err)
	}
	c.send(`31[1]`) // too late, ignored

	// binary ack from the client
	if err := s.Emit("file", func(a Args) { b, _ := a.Bytes(0); got <- string(b) }); err != nil {
		t.Fatal(err)
	}
	c.expect(`22["file"]`)
	c.send(`61-2[{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte("xyz"))
	if a := <-got; a != "xyz" {
		t.Fatalf("ack %q", a)
	}

	// EmitWithAck blocks until the ack or the context's end
	go func() {
		a, err := s.EmitWithAck(context.Background(), "sync", 1)
		if err != nil {
			errs <- err
			return
		}
		got <- string(a.Raw(0))
	}()
	c.expect(`23["sync",1]`)
	c.send(`33["ok"]`)
	if a := <-got; a != `"ok"` {
		t.Fatalf("EmitWithAck got %q", a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.EmitWithAck(ctx, "never"); !errors.Is(err, context.Canceled) {
		t.Fatalf("EmitWithAck with a canceled ctx: %v", err)
	}
	c.expect(`24["never"]`)

	// pending acks fail when the socket disconnects
	if err := s.Timeout(time.Hour).Emit("q", func(err error, a Args) { errs <- err }); err != nil {
		t.Fatal(err)
	}
	c.expect(`25["q"]`)
	c.send("1")
	if err := <-errs; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("err %v", err)
	}
}

func TestPendingAcksBounded(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{MaxPendingAcks: 2})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, srv)
	c.connect("/")
	s := <-sockets
	cb := func(Args) {}
	for i := range 3 {
		err := s.Emit("q", cb)
		if i < 2 && err != nil || i == 2 && !errors.Is(err, ErrTooManyPendingAcks) {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
}

func TestDisconnectReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		act        func(c *testConn, s *Socket)
		want       string
		connClosed bool
	}{
		{"client namespace disconnect", func(c *testConn, _ *Socket) { c.send("1") }, ReasonClientNamespaceDisconnect, false},
		{"server namespace disconnect", func(_ *testConn, s *Socket) { s.Disconnect(false) }, ReasonServerNamespaceDisconnect, false},
		{"server disconnect with close", func(_ *testConn, s *Socket) { s.Disconnect(true) }, ReasonServerNamespaceDisconnect, true},
		{"transport close", func(c *testConn, _ *Socket) { c.f.CloseWithReason(ReasonTransportClose) }, ReasonTransportClose, true},
		{"ping timeout", func(c *testConn, _ *Socket) { c.f.CloseWithReason(ReasonPingTimeout) }, ReasonPingTimeout, true},
		{"parse error", func(c *testConn, _ *Socket) { c.send("2[") }, ReasonParseError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, Config{})
			sockets := make(chan *Socket, 1)
			reasons := make(chan string, 2)
			srv.OnConnection(func(s *Socket) {
				s.Join("room")
				s.OnDisconnecting(func(string) {
					if !contains(s.Rooms(), "room") {
						t.Error("rooms gone before disconnecting")
					}
				})
				s.OnDisconnect(func(r string) { reasons <- r })
				sockets <- s
			})
			c := dial(t, srv)
			c.connect("/")
			s := <-sockets
			tt.act(c, s)
			select {
			case r := <-reasons:
				if r != tt.want {
					t.Fatalf("reason %q, want %q", r, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no disconnect")
			}
			if s.Connected() || len(srv.Sockets().Adapter().Sockets([]string{"room"})) != 0 {
				t.Fatal("socket still registered")
			}
			if _, ok := srv.Sockets().Socket(s.ID()); ok {
				t.Fatal("socket still in namespace")
			}
			if tt.connClosed {
				c.waitClosed()
			} else if _, closed := c.closeReason(); closed {
				t.Fatal("leaving the last namespace closed the connection")
			}
		})
	}
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func TestServerDisconnectSendsPacket(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{})
	srv.Of("/custom").OnConnection(func(s *Socket) { s.Disconnect(false) })
	c := dial(t, srv)
	c.connect("/custom")
	c.expect("1/custom,")
	// reconnecting to the namespace on the same connection works
	c.connect("/custom")
	c.expect("1/custom,")
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{ConnectTimeout: 30 * time.Millisecond})
	idle := dial(t, srv)
	joined := dial(t, srv)
	joined.connect("/")
	if r := idle.waitClosed(); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	time.Sleep(60 * time.Millisecond) // well past the timeout: must stay open
	if _, closed := joined.closeReason(); closed {
		t.Fatal("connected client closed by the connect timeout")
	}
}

func TestDynamicNamespace(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{})
	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	var mu sync.Mutex
	var names []string
	parent.Use(func(s *Socket) error {
		if string(s.Handshake().Auth) == `{"deny":true}` {
			return errors.New("denied")
		}
		return nil
	})
	parent.OnConnection(func(s *Socket) {
		mu.Lock()
		names = append(names, s.Namespace().Name())
		mu.Unlock()
	})
	c := dial(t, srv)
	c.connect("/dyn-1")
	c.connect("/dyn-22")
	c.send("0/dyn-x,")
	c.expect(`4/dyn-x,{"message":"Invalid namespace"}`)
	c.send(`0/dyn-3,{"deny":true}`)
	c.expect(`4/dyn-3,{"message":"denied"}`)
	mu.Lock()
	defer mu.Unlock()
	if len(names) != 2 || names[0] != "/dyn-1" || names[1] != "/dyn-22" || len(parent.Children()) != 3 {
		t.Fatalf("names %v children %d", names, len(parent.Children()))
	}
}

func TestArgsDecode(t *testing.T) {
	t.Parallel()
	a := Args{json.RawMessage(`{"n":1}`), []byte("b"), json.RawMessage(`"s"`)}
	var v struct{ N int }
	if err := a.Decode(0, &v); err != nil || v.N != 1 {
		t.Fatal(v, err)
	}
	var b []byte
	if err := a.Decode(1, &b); err != nil || string(b) != "b" {
		t.Fatal(b, err)
	}
	if s, err := a.String(2); err != nil || s != "s" {
		t.Fatal(s, err)
	}
	if err := a.Decode(3, &v); !errors.Is(err, ErrNoArg) {
		t.Fatal(err)
	}
}

func TestCleanupEmptyChildNamespaces(t *testing.T) {
	t.Parallel()
	for _, cleanup := range []bool{false, true} {
		t.Run(fmt.Sprint("cleanup=", cleanup), func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, Config{CleanupEmptyChildNamespaces: cleanup})
			parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
			var mu sync.Mutex
			connections := 0
			parent.OnConnection(func(*Socket) { mu.Lock(); connections++; mu.Unlock() })
			c := dial(t, srv)
			first := c.connect("/room-1")
			c.send("1/room-1,")
			want := 1
			if cleanup {
				want = 0
			}
			waitFor(t, func() bool { return len(parent.Children()) == want })
			srv.mu.RLock()
			_, kept := srv.nsps["/room-1"]
			srv.mu.RUnlock()
			if kept != !cleanup {
				t.Fatalf("namespace kept = %v", kept)
			}
			// connecting again works either way, with the parent's handlers
			if second := c.connect("/room-1"); second == first {
				t.Fatal("same socket id")
			}
			mu.Lock()
			defer mu.Unlock()
			if connections != 2 || len(parent.Children()) != 1 {
				t.Fatalf("connections %d children %d", connections, len(parent.Children()))
			}
		})
	}
}
