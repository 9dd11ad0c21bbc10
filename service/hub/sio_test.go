package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/hubkit/hubkit/service/socketio"
)

// wsClient is a minimal raw Engine.IO/Socket.IO websocket client for unit
// tests of the socket wiring (the real JS client is used in tests/hube2e).
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dialSIO(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	w := &wsClient{t: t, c: c}
	if open := w.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet = %q", open)
	}
	return w
}

func (w *wsClient) write(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write %q: %v", s, err)
	}
}

// read returns the next packet that is not an Engine.IO ping.
func (w *wsClient) read() string {
	w.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := w.c.Read(ctx)
		cancel()
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		if string(b) == "2" {
			w.write("3")
			continue
		}
		return string(b)
	}
}

func (w *wsClient) close() { _ = w.c.CloseNow() }

func counter(t testing.TB, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range mt.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case mt.GetCounter() != nil:
				return mt.GetCounter().GetValue()
			case mt.GetGauge() != nil:
				return mt.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func newTestSocketIO(t *testing.T, mod func(*Settings)) (*SocketIO, *Metrics, *httptest.Server) {
	t.Helper()
	set := testSettings()
	if mod != nil {
		mod(&set)
	}
	m := NewMetrics()
	x, err := NewSocketIO(SocketIOConfig{Settings: set, Metrics: m, AuthLeeway: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(x)
	t.Cleanup(func() {
		_ = x.Close(context.Background())
		srv.Close()
	})
	return x, m, srv
}

func TestSocketIOAuth(t *testing.T) {
	t.Parallel()
	secret := []byte("unit-secret")
	_, m, srv := newTestSocketIO(t, func(s *Settings) { s.JWTSecret = secret })
	good, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(time.Hour, []string{"a"}, nil)).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(-time.Hour, nil, nil)).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, connect, want string
	}{
		{"no auth", `40`, `44{"message":"unauthorized: missing token`},
		{"expired", `40{"token":"` + expired + `"}`, `44{"message":"unauthorized: token expired","data":{"code":"token_expired"}}`},
		{"token not a string", `40{"token":1}`, `44{"message":"unauthorized: invalid token: auth.token must be a string"`},
		{"good", `40{"token":"` + good + `"}`, `40{"sid":"`},
	}
	for _, tt := range tests {
		c := dialSIO(t, srv.URL)
		c.write(tt.connect)
		if got := c.read(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q, want prefix %q", tt.name, got, tt.want)
		}
		if tt.name == "good" {
			c.write(`420["join","a"]`)
			if got := c.read(); got != `430[{"ok":true}]` {
				t.Errorf("join a: %q", got)
			}
			c.write(`421["join","b"]`)
			if got := c.read(); got != `431[{"error":"not allowed to join room b"}]` {
				t.Errorf("join b: %q", got)
			}
		}
		c.close()
	}
	if got := counter(t, m, "hub_errors_total", "reason", "auth_token_expired"); got != 1 {
		t.Errorf("auth_token_expired = %v", got)
	}
}

// TestSlowConsumerCounted: a client that stops reading is disconnected once
// its write queue is full, and the metric says so.
func TestSlowConsumerCounted(t *testing.T) {
	t.Parallel()
	x, m, srv := newTestSocketIO(t, func(s *Settings) { s.WriteQueue = 4 })
	c := dialSIO(t, srv.URL)
	defer c.close()
	c.write(`40`)
	if got := c.read(); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("connect: %q", got)
	}
	c.write(`420["join","r"]`)
	if got := c.read(); got != `430[{"ok":true}]` {
		t.Fatalf("join: %q", got)
	}
	if got := counter(t, m, "hub_rooms"); got != 1 {
		t.Fatalf("hub_rooms = %v", got)
	}
	// The client reads nothing more. Publish until the hub gives up on it.
	payload, _ := json.Marshal(strings.Repeat("x", 64<<10))
	for i := 0; counter(t, m, "hub_slow_consumer_disconnects_total") == 0; i++ {
		if i == 20000 {
			t.Fatal("slow consumer never disconnected")
		}
		if err := x.Publish(context.Background(), "r", "big", payload); err != nil {
			t.Fatal(err)
		}
	}
	if got := counter(t, m, "hub_messages_out_total"); got < 4 {
		t.Errorf("hub_messages_out_total = %v", got)
	}
	waitFor(t, func() bool { return counter(t, m, "hub_rooms") == 0 })
}

// TestTokenExpiryDisconnects: a connected socket is told and disconnected
// when its token expires.
func TestTokenExpiryDisconnects(t *testing.T) {
	t.Parallel()
	secret := []byte("unit-secret")
	_, m, srv := newTestSocketIO(t, func(s *Settings) { s.JWTSecret = secret })
	c := claims(0, []string{"*"}, nil)
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(1500 * time.Millisecond))
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	w := dialSIO(t, srv.URL)
	defer w.close()
	w.write(`40{"token":"` + tok + `"}`)
	if got := w.read(); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("connect: %q", got)
	}
	w.write(`420["join","r"]`)
	if got := w.read(); got != `430[{"ok":true}]` {
		t.Fatalf("join: %q", got)
	}
	// With recovery on (the default) the event carries a trailing offset.
	if got := w.read(); !strings.HasPrefix(got, `42["hub:error",{"error":"unauthorized: token expired","op":"auth"}`) {
		t.Fatalf("expiry notice: %q", got)
	}
	if got := w.read(); got != `41` {
		t.Fatalf("disconnect: %q", got)
	}
	waitFor(t, func() bool { return counter(t, m, "hub_rooms") == 0 })
	if got := counter(t, m, "hub_errors_total", "reason", "auth_expired_while_connected"); got != 1 {
		t.Fatalf("auth_expired_while_connected = %v", got)
	}
}

// connectSID sends CONNECT for "/" and returns the socket id from the ack.
func (w *wsClient) connectSID(connect string) string {
	w.t.Helper()
	w.write(connect)
	got := w.read()
	var ack struct{ SID string }
	if !strings.HasPrefix(got, "40{") || json.Unmarshal([]byte(got[2:]), &ack) != nil || ack.SID == "" {
		w.t.Fatalf("connect: %q", got)
	}
	return ack.SID
}

// TestSocketIDRoomsArePrivate: in open mode an attacker can neither join
// nor publish to the room named after a victim's socket id (nor its own),
// and a private message to the victim's id reaches the victim only.
func TestSocketIDRoomsArePrivate(t *testing.T) {
	t.Parallel()
	x, m, srv := newTestSocketIO(t, nil)
	victim, attacker := dialSIO(t, srv.URL), dialSIO(t, srv.URL)
	defer victim.close()
	defer attacker.close()
	vid, aid := victim.connectSID("40"), attacker.connectSID("40")
	for _, id := range []string{vid, aid} {
		if !IsSocketIDShaped(id) {
			t.Fatalf("socket id %q is not shaped like one", id)
		}
	}
	refused := []struct{ send, want string }{
		{`420["join","` + vid + `"]`, `430[{"error":"not allowed to join room ` + vid + `: it is or looks like a socket id`},
		{`421["join","` + aid + `"]`, `431[{"error":"not allowed to join room ` + aid + `: it is or looks like a socket id`},
		{`422["publish","` + vid + `","fake",1]`, `432[{"error":"not allowed to publish to room ` + vid + `: it is or looks like a socket id`},
	}
	for _, r := range refused {
		attacker.write(r.send)
		if got := attacker.read(); !strings.HasPrefix(got, r.want) {
			t.Fatalf("%s: got %q, want prefix %q", r.send, got, r.want)
		}
	}
	attacker.write(`423["join","ctl"]`)
	if got := attacker.read(); got != `433[{"ok":true}]` {
		t.Fatalf("join ctl: %q", got)
	}
	// A backend's private message to the victim (publish API, or Node's
	// io.to(socketId)), then a marker to the attacker: the attacker's next
	// packet must be the marker.
	if err := x.Publish(context.Background(), vid, "private", json.RawMessage(`"secret"`)); err != nil {
		t.Fatal(err)
	}
	if got := victim.read(); !strings.HasPrefix(got, `42["private","secret"`) {
		t.Fatalf("victim got %q", got)
	}
	if err := x.Publish(context.Background(), "ctl", "marker", nil); err != nil {
		t.Fatal(err)
	}
	if got := attacker.read(); !strings.HasPrefix(got, `42["marker"`) {
		t.Fatalf("attacker got %q before the marker", got)
	}
	if got := counter(t, m, "hub_errors_total", "reason", "join_socket_room"); got != 2 {
		t.Errorf("join_socket_room = %v, want 2", got)
	}
	if got := counter(t, m, "hub_errors_total", "reason", "publish_socket_room"); got != 1 {
		t.Errorf("publish_socket_room = %v, want 1", got)
	}
}

// TestAckTimeoutsCounted: a broadcast with acknowledgements (as a Node
// replica's io.timeout(...).emit reaches the hub's sockets through the
// adapter) where one client never answers moves hub_acks_timed_out_total by
// one, and hub_messages_out_total counts both deliveries exactly.
func TestAckTimeoutsCounted(t *testing.T) {
	t.Parallel()
	x, m, srv := newTestSocketIO(t, nil)
	silent, answering := dialSIO(t, srv.URL), dialSIO(t, srv.URL)
	defer silent.close()
	defer answering.close()
	for _, c := range []*wsClient{silent, answering} {
		c.connectSID("40")
		c.write(`420["join","r"]`)
		if got := c.read(); got != `430[{"ok":true}]` {
			t.Fatalf("join: %q", got)
		}
	}
	done := make(chan error, 1)
	err := x.nsp.To("r").Timeout(100*time.Millisecond).Emit("q", func(err error, _ []socketio.Args) { done <- err })
	if err != nil {
		t.Fatal(err)
	}
	if got := silent.read(); !strings.HasPrefix(got, "42") || !strings.HasSuffix(got, `["q"]`) {
		t.Fatalf("silent got %q", got)
	}
	got := answering.read()
	id, ok := strings.CutSuffix(strings.TrimPrefix(got, "42"), `["q"]`)
	if !ok || id == "" {
		t.Fatalf("answering got %q", got)
	}
	answering.write("43" + id + `["fine"]`)
	if err := <-done; !errors.Is(err, socketio.ErrAckTimeout) {
		t.Fatalf("broadcast ack result: %v", err)
	}
	waitFor(t, func() bool { return counter(t, m, "hub_acks_timed_out_total") >= 1 })
	if got := counter(t, m, "hub_acks_timed_out_total"); got != 1 {
		t.Fatalf("hub_acks_timed_out_total = %v, want 1", got)
	}
	if got := counter(t, m, "hub_messages_out_total"); got != 2 {
		t.Fatalf("hub_messages_out_total = %v, want 2", got)
	}
}

// TestClientRateLimit: with HUB_CLIENT_RATE, a connection's join, leave and
// publish events past its burst are refused with "rate limited" (as an ack,
// or as hub:error without one) and counted; other connections keep their
// own budget.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	// 0.01/s: the budget does not refill within the test, so exactly the
	// burst is allowed whatever the machine's speed.
	_, m, srv := newTestSocketIO(t, func(s *Settings) { s.ClientRate, s.ClientBurst = 0.01, 3 })
	connect := func() *wsClient {
		c := dialSIO(t, srv.URL)
		c.write(`40`)
		if got := c.read(); !strings.HasPrefix(got, `40{"sid":"`) {
			t.Fatalf("connect: %q", got)
		}
		return c
	}
	a := connect()
	defer a.close()
	steps := []struct{ send, want string }{
		{`420["join","r"]`, `430[{"ok":true}]`},
		{`421["publish","r","e",1]`, `431[{"ok":true}]`},
		{`422["leave","r"]`, `432[{"ok":true}]`},
		{`423["join","r"]`, `433[{"error":"rate limited"}]`},
		{`424["publish","r","e",1]`, `434[{"error":"rate limited"}]`},
		// without ack: hub:error (and, recovery being on, an offset)
		{`42["publish","r","e",1]`, `42["hub:error",{"error":"rate limited","op":"publish"}`},
	}
	for _, st := range steps {
		a.write(st.send)
		if got := a.read(); !strings.HasPrefix(got, st.want) {
			t.Fatalf("%s: got %q, want %q", st.send, got, st.want)
		}
	}
	if got := counter(t, m, "hub_errors_total", "reason", "rate_limited"); got != 3 {
		t.Errorf("rate_limited = %v, want 3", got)
	}
	b := connect() // a fresh connection has its own budget
	defer b.close()
	b.write(`420["join","r"]`)
	if got := b.read(); got != `430[{"ok":true}]` {
		t.Fatalf("second connection join: %q", got)
	}
}
