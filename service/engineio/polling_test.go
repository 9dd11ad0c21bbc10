package engineio

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)
	res := ts.do(http.MethodGet, "EIO=4&transport=polling&t=N8hyd6w", "", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("content type %q", ct)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("cache-control %q", cc)
	}
	o := parseOpen(t, res.body)
	if len(o.SID) != 20 || strings.Trim(o.SID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("sid %q is not 20 URL-safe base64 chars", o.SID)
	}
	if len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Errorf("upgrades %v", o.Upgrades)
	}
	if o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Errorf("open %+v", o)
	}
	want := `0{"sid":"` + o.SID + `","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`
	if res.body != want {
		t.Errorf("open packet\n got %s\nwant %s", res.body, want)
	}
	s := ts.session(o.SID)
	if s.conn.ID() != o.SID || s.conn.Transport() != "polling" {
		t.Errorf("conn %s %s", s.conn.ID(), s.conn.Transport())
	}
	hs := s.conn.Handshake()
	if hs.Query.Get("t") != "N8hyd6w" || hs.RemoteAddr != "127.0.0.1" || hs.XDomain || hs.Secure || !strings.HasPrefix(hs.URL, testPath+"?") || hs.Issued == 0 {
		t.Errorf("handshake %+v", hs)
	}
}

func TestHandshakeNoUpgrades(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{DisableUpgrades: true}, {Transports: []string{"polling"}}} {
		ts := newTestServer(t, cfg, false)
		o, _ := ts.handshake()
		if len(o.Upgrades) != 0 {
			t.Errorf("%+v: upgrades %v, want []", cfg, o.Upgrades)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{AllowedOrigins: []string{"https://good.example"}}, false)
	o, _ := ts.handshake()
	wsOnly := newTestServer(t, Config{Transports: []string{"websocket"}}, false)
	tests := []struct {
		name   string
		ts     *testServer
		method string
		query  string
		header http.Header
		status int
		code   int
		msg    string
	}{
		{"EIO 3", ts, "GET", "EIO=3&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO missing", ts, "GET", "transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO 5", ts, "GET", "EIO=5&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"transport unknown", ts, "GET", "EIO=4&transport=flash", nil, 400, 0, "Transport unknown"},
		{"transport missing", ts, "GET", "EIO=4", nil, 400, 0, "Transport unknown"},
		{"transport not allowed", wsOnly, "GET", "EIO=4&transport=polling", nil, 400, 0, "Transport unknown"},
		{"unknown sid", ts, "GET", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", nil, 400, 1, "Session ID unknown"},
		{"unknown sid POST", ts, "POST", "EIO=4&transport=polling&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"handshake POST", ts, "POST", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"handshake PUT", ts, "PUT", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"websocket without upgrade", ts, "GET", "EIO=4&transport=websocket", nil, 400, 3, "Bad request"},
		{"sid with EIO 3", ts, "GET", "EIO=3&transport=polling&sid=" + o.SID, nil, 400, 3, "Bad request"},
		{"sid with websocket transport", ts, "GET", "EIO=4&transport=websocket&sid=" + o.SID, nil, 400, 3, "Bad request"},
		{"forbidden origin", ts, "GET", "EIO=4&transport=polling", http.Header{"Origin": {"https://evil.example"}}, 403, 4, "Forbidden"},
		{"forbidden origin with sid", ts, "GET", "EIO=4&transport=polling&sid=" + o.SID, http.Header{"Origin": {"https://evil.example"}}, 403, 4, "Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.ts.do(tt.method, tt.query, "", "", tt.header)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d (%q)", res.status, tt.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			e := parseError(t, res.body)
			if e.Code != tt.code || e.Message != tt.msg {
				t.Errorf("body %q, want code %d message %q", res.body, tt.code, tt.msg)
			}
		})
	}
}

func TestPollingFraming(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()

	// Server → client: text and binary messages joined by \x1e, binary as b+base64.
	if err := s.conn.Send(Message{Data: []byte("hello")}, Message{Data: []byte{1, 2, 3}, Binary: true}, Message{Data: []byte("€uro")}); err != nil {
		t.Fatal(err)
	}
	res := ts.get(o.SID)
	if res.status != 200 || res.body != "4hello\x1ebAQID\x1e4€uro" {
		t.Fatalf("GET %d %q", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("content type %q", ct)
	}

	// Client → server.
	res = ts.post(o.SID, "4a\x1ebAQID\x1e4\x1e6\x1e4last")
	if res.status != 200 || res.body != "ok" {
		t.Fatalf("POST %d %q", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/html" {
		t.Errorf("POST content type %q, want text/html like Node", ct)
	}
	want := []Message{{Data: []byte("a")}, {Data: []byte{1, 2, 3}, Binary: true}, {Data: []byte{}}, {Data: []byte("last")}}
	for i, w := range want {
		m := s.next(t)
		if string(m.Data) != string(w.Data) || m.Binary != w.Binary {
			t.Errorf("message %d: %q binary=%v, want %q binary=%v", i, m.Data, m.Binary, w.Data, w.Binary)
		}
	}
}

func TestPollingMessageDataOwned(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ts.post(o.SID, "4ab\x1e4cd")
	m1, m2 := s.next(t), s.next(t)
	_ = append(m1.Data, 'X') // must not overwrite the next message
	if string(m2.Data) != "cd" {
		t.Fatalf("second message %q", m2.Data)
	}
}

func TestPollingHeldGet(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ch := ts.asyncGet(o.SID)
	eventually(t, "poll held", func() bool {
		s.conn.mu.Lock()
		defer s.conn.mu.Unlock()
		return s.conn.pollActive
	})
	select {
	case r := <-ch:
		t.Fatalf("GET returned before anything was queued: %+v", r)
	default:
	}
	if err := s.conn.Send(Message{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if r := <-ch; r.status != 200 || r.body != "4x" {
		t.Fatalf("held GET got %d %q", r.status, r.body)
	}
}

func TestPollingResponseBoundedByMaxPayload(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxPayload: 100}, false)
	o, s := ts.handshake()
	chunk := strings.Repeat("a", 40)
	for i := 0; i < 3; i++ {
		if err := s.conn.Send(Message{Data: []byte(chunk)}); err != nil {
			t.Fatal(err)
		}
	}
	if r := ts.get(o.SID); r.body != "4"+chunk+"\x1e4"+chunk {
		t.Fatalf("first GET %q", r.body)
	}
	if r := ts.get(o.SID); r.body != "4"+chunk {
		t.Fatalf("second GET %q", r.body)
	}
}

func TestDuplicateGet(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	first := ts.asyncGet(o.SID)
	eventually(t, "poll held", func() bool {
		s.conn.mu.Lock()
		defer s.conn.mu.Unlock()
		return s.conn.pollActive
	})
	second := ts.get(o.SID)
	if second.status != http.StatusBadRequest {
		t.Fatalf("second GET %d %q", second.status, second.body)
	}
	if r := <-first; r.status != 200 || r.body != "1" {
		t.Fatalf("pending GET got %d %q, want close packet", r.status, r.body)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
	if r := ts.get(o.SID); r.status != 400 || parseError(t, r.body).Code != 1 {
		t.Errorf("next request %d %q", r.status, r.body)
	}
}

func TestDuplicatePost(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	// Hold a POST open by sending its body slowly.
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, ts.url("EIO=4&transport=polling&sid="+o.SID), pr)
		res, err := ts.http.Client().Do(req)
		if err != nil {
			done <- -1
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	eventually(t, "POST in flight", func() bool {
		s.conn.mu.Lock()
		defer s.conn.mu.Unlock()
		return s.conn.postActive
	})
	if r := ts.post(o.SID, "4x"); r.status != http.StatusBadRequest {
		t.Fatalf("second POST %d", r.status)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
	pw.Close()
	<-done
}

func TestPostClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	held := ts.asyncGet(o.SID)
	eventually(t, "poll held", func() bool {
		s.conn.mu.Lock()
		defer s.conn.mu.Unlock()
		return s.conn.pollActive
	})
	if r := ts.post(o.SID, "4bye\x1e1\x1e4ignored"); r.status != 200 || r.body != "ok" {
		t.Fatalf("POST %d %q", r.status, r.body)
	}
	if r := <-held; r.body != "6" {
		t.Fatalf("held GET got %q, want noop", r.body)
	}
	if m := s.next(t); string(m.Data) != "bye" {
		t.Errorf("message %q", m.Data)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
	select {
	case m := <-s.msgs:
		t.Errorf("message after close packet delivered: %q", m.Data)
	default:
	}
	if r := ts.get(o.SID); r.status != 400 || parseError(t, r.body).Code != 1 {
		t.Errorf("next GET %d %q", r.status, r.body)
	}
}

func TestPollingOversizedBody(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxPayload: 100}, false)
	o, s := ts.handshake()
	if r := ts.post(o.SID, "4"+strings.Repeat("x", 100)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", r.status)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
	// Exactly MaxPayload is accepted.
	o2, s2 := ts.handshake()
	if r := ts.post(o2.SID, "4"+strings.Repeat("x", 99)); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if m := s2.next(t); len(m.Data) != 99 {
		t.Errorf("len %d", len(m.Data))
	}
}

func TestPollingOversizedChunkedBody(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxPayload: 100}, false)
	o, s := ts.handshake()
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("4" + strings.Repeat("y", 200)))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, ts.url("EIO=4&transport=polling&sid="+o.SID), pr)
	res, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", res.StatusCode)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
}

func TestPollingInvalidPackets(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		reason      string
		delivered   int
	}{
		{"empty body", "", "", 400, ReasonParseError, 0},
		{"unknown type", "9", "", 400, ReasonParseError, 0},
		{"letter type", "abc", "", 400, ReasonParseError, 0},
		{"bad base64", "b!!!", "", 400, ReasonParseError, 0},
		{"trailing separator", "4a\x1e", "", 400, ReasonParseError, 1},
		{"valid then invalid", "4a\x1e4b\x1e7", "", 400, ReasonParseError, 2},
		{"client ping", "2", "", 400, ReasonTransportError, 0},
		{"probe ping over polling", "2probe", "", 400, ReasonTransportError, 0},
		{"binary body", "4a", "application/octet-stream", 400, ReasonTransportError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, s := ts.handshake()
			ct := tt.contentType
			if ct == "" {
				ct = "text/plain;charset=UTF-8"
			}
			r := ts.do(http.MethodPost, "EIO=4&transport=polling&sid="+o.SID, ct, tt.body, nil)
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if reason := s.waitClosed(t); reason != tt.reason {
				t.Errorf("reason %q, want %q", reason, tt.reason)
			}
			if len(s.msgs) != tt.delivered {
				t.Errorf("%d messages delivered, want %d", len(s.msgs), tt.delivered)
			}
			if r := ts.get(o.SID); r.status != 400 {
				t.Errorf("session still reachable: %d %q", r.status, r.body)
			}
		})
	}
}

func TestPollingUnknownMethod(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, _ := ts.handshake()
	if r := ts.do(http.MethodPut, "EIO=4&transport=polling&sid="+o.SID, "", "", nil); r.status != http.StatusInternalServerError {
		t.Errorf("status %d", r.status)
	}
}

func TestPollingClientGoneClosesSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	_ = ts.asyncGet(o.SID)
	eventually(t, "poll held", func() bool {
		s.conn.mu.Lock()
		defer s.conn.mu.Unlock()
		return s.conn.pollActive
	})
	ts.http.CloseClientConnections()
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
}
