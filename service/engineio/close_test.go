package engineio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestConnClosePolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	if err := s.conn.Send(Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	s.conn.Close()
	if err := s.conn.Send(Message{Data: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	// The next poll gets what was queued, then the close packet.
	if r := ts.get(o.SID); r.body != "4bye\x1e1" {
		t.Fatalf("GET %q", r.body)
	}
	if reason := s.waitClosed(t); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
	if r := ts.get(o.SID); r.status != 400 {
		t.Errorf("GET after close %d", r.status)
	}
}

func TestConnCloseHeldPoll(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	held := ts.asyncGet(o.SID)
	eventually(t, "poll held", s.pollHeld)
	s.conn.CloseWithReason("custom")
	if r := <-held; r.body != "1" {
		t.Fatalf("held GET %q", r.body)
	}
	if reason := s.waitClosed(t); reason != "custom" {
		t.Errorf("reason %q", reason)
	}
}

func TestConnCloseIdlePollingTimesOut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PingTimeout: 30 * time.Millisecond}, false)
	_, s := ts.handshake()
	s.conn.Close() // the client never polls again
	if reason := s.waitClosed(t); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
}

func TestOnCloseExactlyOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	s.conn.Close()
	s.conn.CloseWithReason("again")
	s.conn.closeNow(ReasonTransportError)
	ts.get(o.SID)
	if reason := s.waitClosed(t); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
	ts.eio.Close()
	s.mu.Lock()
	calls := s.calls
	s.mu.Unlock()
	if calls != 1 {
		t.Errorf("OnClose called %d times", calls)
	}
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	po, ps := ts.handshake()
	held := ts.asyncGet(po.SID)
	eventually(t, "poll held", ps.pollHeld)
	ws, _, wss := ts.dialSession()
	if err := wss.conn.Send(Message{Data: []byte("drained")}); err != nil {
		t.Fatal(err)
	}

	ts.eio.Close()
	ts.eio.Close() // idempotent

	if r := <-held; r.body != "1" {
		t.Errorf("held GET %q", r.body)
	}
	if _, got := read(t, ws); got != "4drained" {
		t.Errorf("ws flush %q", got)
	}
	if code := readClose(t, ws); code != websocket.StatusGoingAway {
		t.Errorf("ws close status %v", code)
	}
	for _, s := range []*session{ps, wss} {
		if reason := s.waitClosed(t); reason != ReasonServerShuttingDown {
			t.Errorf("reason %q", reason)
		}
	}
	// New sessions are refused.
	r := ts.do(http.MethodGet, "EIO=4&transport=polling", "", "", nil)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("handshake after Close: %d %q", r.status, r.body)
	}
	if _, err := ts.dial("EIO=4&transport=websocket", nil); err == nil {
		t.Error("websocket handshake accepted after Close")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.eio.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if len(ts.eio.Sessions()) != 0 {
		t.Errorf("sessions left")
	}
}

func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueSize: 4}, false)
	o, s := ts.handshake()
	for i := 0; i < 3; i++ {
		if err := s.conn.Send(Message{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	// Two more do not fit: none of them is queued, the session is closed.
	if err := s.conn.Send(Message{Data: []byte("a")}, Message{Data: []byte("b")}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send: %v", err)
	}
	if reason := s.waitClosed(t); reason != ReasonSlowConsumer {
		t.Errorf("reason %q", reason)
	}
	if err := s.conn.Send(Message{Data: []byte("c")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after slow close: %v", err)
	}
	if r := ts.get(o.SID); r.status != 400 {
		t.Errorf("GET %d %q", r.status, r.body)
	}
}

func TestSlowConsumerBytes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueBytes: 10}, false)
	_, s := ts.handshake()
	if err := s.conn.Send(Message{Data: make([]byte, 10)}); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.Send(Message{Data: []byte{1}}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send: %v", err)
	}
	if reason := s.waitClosed(t); reason != ReasonSlowConsumer {
		t.Errorf("reason %q", reason)
	}
}

func TestSlowConsumerWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueSize: 8, WriteTimeout: time.Hour}, false)
	_, _, s := ts.dialSession() // never reads
	big := make([]byte, 256<<10)
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		err = s.conn.Send(Message{Data: big, Binary: true})
	}
	if err == nil {
		t.Fatal("a client that never reads was never dropped")
	}
	if reason := s.waitClosed(t); reason != ReasonSlowConsumer {
		t.Errorf("reason %q", reason)
	}
	// The writer stuck on the full socket is cut loose, not left waiting for
	// WriteTimeout (an hour here).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.eio.waitIdle(ctx); err != nil {
		t.Errorf("writer still running: %v", err)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	anyOrigin := newTestServer(t, Config{}, false)
	listed := newTestServer(t, Config{AllowedOrigins: []string{"https://app.example", "http://localhost:8080/"}}, false)
	star := newTestServer(t, Config{AllowedOrigins: []string{"*"}}, false)
	tests := []struct {
		name    string
		ts      *testServer
		origin  string
		allowed bool
	}{
		{"any: reflected", anyOrigin, "https://whatever.example", true},
		{"listed", listed, "https://app.example", true},
		{"listed, trailing slash in config", listed, "http://localhost:8080", true},
		{"not listed", listed, "https://evil.example", false},
		{"star", star, "https://x.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Origin": {tt.origin}}
			// Preflight.
			pre := tt.ts.do(http.MethodOptions, "EIO=4&transport=polling", "", "", http.Header{
				"Origin": {tt.origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"},
			})
			hs := tt.ts.do(http.MethodGet, "EIO=4&transport=polling", "", "", h)
			if !tt.allowed {
				if pre.status != 403 || hs.status != 403 || parseError(t, hs.body).Code != 4 {
					t.Errorf("disallowed origin: preflight %d, handshake %d %q", pre.status, hs.status, hs.body)
				}
				if hs.header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("ACAO set for a disallowed origin")
				}
				return
			}
			if pre.status != http.StatusNoContent {
				t.Fatalf("preflight %d", pre.status)
			}
			if pre.header.Get("Access-Control-Allow-Origin") != tt.origin || pre.header.Get("Access-Control-Allow-Credentials") != "true" ||
				pre.header.Get("Access-Control-Allow-Headers") != "content-type" || pre.header.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("preflight headers %v", pre.header)
			}
			if hs.status != 200 || hs.header.Get("Access-Control-Allow-Origin") != tt.origin || hs.header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("handshake %d %v", hs.status, hs.header)
			}
			o := parseOpen(t, hs.body)
			s := tt.ts.session(o.SID)
			if !s.conn.Handshake().XDomain {
				t.Error("XDomain not set")
			}
			post := tt.ts.do(http.MethodPost, "EIO=4&transport=polling&sid="+o.SID, "text/plain", "4x", h)
			if post.status != 200 || post.header.Get("Access-Control-Allow-Origin") != tt.origin {
				t.Errorf("POST %d %v", post.status, post.header)
			}
		})
	}
}

func TestNewServerValidates(t *testing.T) {
	t.Parallel()
	onConn := func(*Conn) ConnHandler { return nil }
	bad := []Config{
		{},
		{OnConnection: onConn, PingInterval: -1},
		{OnConnection: onConn, MaxPayload: -5},
		{OnConnection: onConn, Transports: []string{"flashsocket"}},
		{OnConnection: onConn, AllowedOrigins: []string{" "}},
	}
	for _, cfg := range bad {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
	s, err := NewServer(Config{OnConnection: onConn})
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	if c.PingInterval != 25*time.Second || c.PingTimeout != 20*time.Second || c.UpgradeTimeout != 10*time.Second ||
		c.MaxPayload != 1_000_000 || c.WriteQueueSize != 1024 || len(c.Transports) != 2 || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
}

func TestNilHandlerDiscards(t *testing.T) {
	t.Parallel()
	srv, err := NewServer(Config{OnConnection: func(*Conn) ConnHandler { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, query, body string) string {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, testPath+"?"+query, strings.NewReader(body)))
		return rec.Body.String()
	}
	o := parseOpen(t, do("GET", "EIO=4&transport=polling", ""))
	if got := do("POST", "EIO=4&transport=polling&sid="+o.SID, "4x\x1e1"); got != "ok" {
		t.Errorf("POST %q", got)
	}
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}
