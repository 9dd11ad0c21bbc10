package socketio

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"
)

// room chat fixture: three clients on "/", a and b in "lobby".
func chat(t *testing.T) (*Server, map[string]*testConn, map[string]*Socket) {
	t.Helper()
	return chatWith(t, Config{})
}

// chatWith is chat on a server configured with cfg.
func chatWith(t *testing.T, cfg Config) (*Server, map[string]*testConn, map[string]*Socket) {
	t.Helper()
	srv := newTestServer(t, cfg)
	ch := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { ch <- s })
	conns := map[string]*testConn{}
	socks := map[string]*Socket{}
	for _, name := range []string{"a", "b", "c"} {
		c := dial(t, srv)
		c.connect("/")
		conns[name] = c
		socks[name] = <-ch
	}
	socks["a"].Join("lobby")
	socks["b"].Join("lobby")
	return srv, conns, socks
}

func TestBroadcastOperators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		emit func(srv *Server, s map[string]*Socket) error
		want []string
	}{
		{"io.emit", func(srv *Server, _ map[string]*Socket) error { return srv.Emit("m", 1) }, []string{"a", "b", "c"}},
		{"io.to(room)", func(srv *Server, _ map[string]*Socket) error { return srv.To("lobby").Emit("m", 1) }, []string{"a", "b"}},
		{"io.except(room)", func(srv *Server, _ map[string]*Socket) error { return srv.Except("lobby").Emit("m", 1) }, []string{"c"}},
		{"io.to(room).except(socket)", func(srv *Server, s map[string]*Socket) error {
			return srv.To("lobby").Except(s["a"].ID()).Emit("m", 1)
		}, []string{"b"}},
		{"socket.broadcast", func(_ *Server, s map[string]*Socket) error { return s["a"].Broadcast().Emit("m", 1) }, []string{"b", "c"}},
		{"socket.to(room)", func(_ *Server, s map[string]*Socket) error { return s["a"].To("lobby").Emit("m", 1) }, []string{"b"}},
		{"io.to(socket id)", func(srv *Server, s map[string]*Socket) error { return srv.To(s["c"].ID()).Emit("m", 1) }, []string{"c"}},
		{"local volatile", func(srv *Server, _ map[string]*Socket) error { return srv.Sockets().Local().Volatile().Emit("m", 1) }, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, conns, socks := chat(t)
			if err := tt.emit(srv, socks); err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.want {
				conns[n].expect(`2["m",1]`)
			}
			// a marker sent to everyone proves the others got nothing before it
			if err := srv.Emit("end"); err != nil {
				t.Fatal(err)
			}
			for n, c := range conns {
				if !contains(tt.want, n) {
					c.expect(`2["end"]`)
				}
			}
		})
	}
}

func TestBroadcastWithAck(t *testing.T) {
	t.Parallel()
	srv, conns, _ := chat(t)
	type result struct {
		err       error
		responses []string
	}
	results := make(chan result, 1)
	cb := func(err error, rs []Args) {
		var out []string
		for _, r := range rs {
			out = append(out, string(r.Raw(0)))
		}
		sort.Strings(out)
		results <- result{err, out}
	}
	if err := srv.To("lobby").Timeout(5*time.Second).Emit("q", cb); err != nil {
		t.Fatal(err)
	}
	conns["a"].expect(`20["q"]`)
	conns["b"].expect(`20["q"]`)
	conns["a"].send(`30["ra"]`)
	conns["b"].send(`30["rb"]`)
	r := <-results
	if r.err != nil || len(r.responses) != 2 || r.responses[0] != `"ra"` || r.responses[1] != `"rb"` {
		t.Fatalf("got %+v", r)
	}

	// one client does not answer: the callback gets ErrAckTimeout and the
	// responses collected so far
	if err := srv.Timeout(30*time.Millisecond).Emit("q2", cb); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		conns[n].expect(`21["q2"]`)
	}
	conns["c"].send(`31["rc"]`)
	r = <-results
	if !errors.Is(r.err, ErrAckTimeout) || len(r.responses) != 1 || r.responses[0] != `"rc"` {
		t.Fatalf("got %+v", r)
	}

	// to nobody: completes at once with no responses
	if err := srv.To("empty").Timeout(time.Hour).Emit("q3", cb); err != nil {
		t.Fatal(err)
	}
	if r = <-results; r.err != nil || len(r.responses) != 0 {
		t.Fatalf("got %+v", r)
	}
	if err := srv.Emit("q4", cb); !errors.Is(err, ErrBroadcastAckNeedsTimeout) {
		t.Fatalf("err %v", err)
	}
}

func TestBroadcastBinary(t *testing.T) {
	t.Parallel()
	srv, conns, _ := chat(t)
	if err := srv.To("lobby").Emit("file", []byte{7, 8}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		conns[n].expect(`51-["file",{"_placeholder":true,"num":0}]`)
		if b := conns[n].recv(); !b.Binary || string(b.Data) != "\x07\x08" {
			t.Fatalf("attachment %v", b)
		}
	}
}

func TestFetchAndRemoteOps(t *testing.T) {
	t.Parallel()
	srv, conns, socks := chat(t)
	ctx := context.Background()
	socks["a"].SetData(map[string]any{"user": "ann"})
	infos, err := srv.To("lobby").FetchSockets(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("fetch %v %v", infos, err)
	}
	if err := srv.Sockets().SocketsJoin(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Sockets().Adapter().Sockets([]string{"all"})); n != 3 {
		t.Fatalf("all has %d", n)
	}
	if err := srv.To("lobby").SocketsLeave(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Sockets().Adapter().Sockets([]string{"all"}); len(got) != 1 || got[0] != socks["c"].ID() {
		t.Fatalf("all = %v", got)
	}
	if err := srv.To("all").DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	conns["c"].expect("1")
	waitFor(t, func() bool { return !socks["c"].Connected() })
}

func TestReservedEmit(t *testing.T) {
	t.Parallel()
	srv, _, socks := chat(t)
	if err := srv.Emit("connect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatal(err)
	}
	if err := socks["a"].Emit("disconnecting"); !errors.Is(err, ErrReservedEvent) {
		t.Fatal(err)
	}
}
