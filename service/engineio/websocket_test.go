package engineio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

func TestHandshakeWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, true)
	ws, o, s := ts.dialSession()
	if len(o.Upgrades) != 0 {
		t.Errorf("upgrades %v, want [] for a websocket session", o.Upgrades)
	}
	if o.PingInterval != 25000 || o.PingTimeout != 20000 || o.MaxPayload != 1_000_000 || len(o.SID) != 20 {
		t.Errorf("open %+v", o)
	}
	if s.conn.Transport() != "websocket" || s.conn.ID() != o.SID {
		t.Errorf("conn %s %s", s.conn.Transport(), s.conn.ID())
	}
	if _, w := ts.eio.Count(); w != 1 {
		t.Errorf("websocket count %d", w)
	}

	// One packet per frame; binary frames are raw binary messages.
	write(t, ws, websocket.MessageText, "4hello")
	if typ, got := read(t, ws); typ != websocket.MessageText || got != "4hello" {
		t.Errorf("echo %v %q", typ, got)
	}
	write(t, ws, websocket.MessageBinary, "\x00\x01\xff")
	if typ, got := read(t, ws); typ != websocket.MessageBinary || got != "\x00\x01\xff" {
		t.Errorf("binary echo %v %q", typ, got)
	}
	// A text frame in "b"+base64 form is a binary message too (as in Node's parser).
	write(t, ws, websocket.MessageText, "bAQID")
	if typ, got := read(t, ws); typ != websocket.MessageBinary || got != "\x01\x02\x03" {
		t.Errorf("base64 echo %v %q", typ, got)
	}
	for _, want := range []Message{{Data: []byte("hello")}, {Data: []byte{0, 1, 255}, Binary: true}, {Data: []byte{1, 2, 3}, Binary: true}} {
		m := s.next(t)
		if string(m.Data) != string(want.Data) || m.Binary != want.Binary {
			t.Errorf("delivered %q %v, want %q %v", m.Data, m.Binary, want.Data, want.Binary)
		}
	}
	// Noop and upgrade packets are ignored on an open session.
	write(t, ws, websocket.MessageText, "6")
	write(t, ws, websocket.MessageText, "4after")
	if _, got := read(t, ws); got != "4after" {
		t.Errorf("got %q", got)
	}
}

func TestWebSocketSendBatchContiguous(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	ws, _, s := ts.dialSession()
	if err := s.conn.Send(Message{Data: []byte(`51-["e",{"_placeholder":true,"num":0}]`)}, Message{Data: []byte{9, 9}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	if _, got := read(t, ws); got != `451-["e",{"_placeholder":true,"num":0}]` {
		t.Errorf("first frame %q", got)
	}
	if typ, got := read(t, ws); typ != websocket.MessageBinary || got != "\x09\x09" {
		t.Errorf("attachment %v %q", typ, got)
	}
}

func TestWebSocketReadLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxPayload: 64}, false)
	ws, _, s := ts.dialSession()
	write(t, ws, websocket.MessageText, "4"+strings.Repeat("x", 63)) // exactly MaxPayload
	if m := s.next(t); len(m.Data) != 63 {
		t.Fatalf("len %d", len(m.Data))
	}
	write(t, ws, websocket.MessageText, "4"+strings.Repeat("x", 64))
	if code := readClose(t, ws); code != websocket.StatusMessageTooBig {
		t.Errorf("close status %v, want 1009", code)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportError {
		t.Errorf("reason %q", reason)
	}
}

func TestWebSocketInvalidPackets(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	tests := []struct {
		name   string
		frame  string
		reason string
		code   websocket.StatusCode
	}{
		{"empty text frame", "", ReasonParseError, websocket.StatusProtocolError},
		{"unknown type", "9x", ReasonParseError, websocket.StatusProtocolError},
		{"bad base64", "b%%%", ReasonParseError, websocket.StatusProtocolError},
		{"client ping", "2", ReasonTransportError, websocket.StatusProtocolError},
		{"client close packet", "1", ReasonTransportClose, websocket.StatusNormalClosure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws, _, s := ts.dialSession()
			write(t, ws, websocket.MessageText, tt.frame)
			if code := readClose(t, ws); code != tt.code {
				t.Errorf("close status %v, want %v", code, tt.code)
			}
			if reason := s.waitClosed(t); reason != tt.reason {
				t.Errorf("reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestWebSocketClientCloses(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	ws, _, s := ts.dialSession()
	_ = ws.Close(websocket.StatusNormalClosure, "")
	if reason := s.waitClosed(t); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
	eventually(t, "session removed", func() bool { _, w := ts.eio.Count(); return w == 0 })
}

func TestWebSocketConnClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	ws, _, s := ts.dialSession()
	if err := s.conn.Send(Message{Data: []byte("last words")}); err != nil {
		t.Fatal(err)
	}
	s.conn.Close()
	if err := s.conn.Send(Message{Data: []byte("too late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if _, got := read(t, ws); got != "4last words" {
		t.Errorf("flushed %q", got)
	}
	if code := readClose(t, ws); code != websocket.StatusNormalClosure {
		t.Errorf("close status %v", code)
	}
	if reason := s.waitClosed(t); reason != ReasonForcedClose {
		t.Errorf("reason %q", reason)
	}
}

func TestWebSocketForbiddenOrigin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{AllowedOrigins: []string{"https://good.example"}}, false)
	_, err := ts.dial("EIO=4&transport=websocket", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("dial with a forbidden origin: %v", err)
	}
	ws, err := ts.dial("EIO=4&transport=websocket", http.Header{"Origin": {"https://good.example"}})
	if err != nil {
		t.Fatalf("dial with an allowed origin: %v", err)
	}
	defer ws.CloseNow()
	if _, open := read(t, ws); !strings.HasPrefix(open, "0{") {
		t.Errorf("open %q", open)
	}
}

func TestWebSocketRequestErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	pollOnly := newTestServer(t, Config{Transports: []string{"polling"}}, false)
	tests := []struct {
		name  string
		ts    *testServer
		query string
		msg   string
	}{
		{"EIO 3", ts, "EIO=3&transport=websocket", "Unsupported protocol version"},
		{"unknown sid", ts, "EIO=4&transport=websocket&sid=nope", "Session ID unknown"},
		{"websocket not allowed", pollOnly, "EIO=4&transport=websocket", "Transport unknown"},
		{"upgrade with polling transport", ts, "EIO=4&transport=polling", "Bad request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, tt.ts.url(tt.query), nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			res, err := tt.ts.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body := make([]byte, 128)
			n, _ := res.Body.Read(body)
			// Like Node's abortUpgrade: 400 with the bare message as text/html.
			if res.StatusCode != 400 || string(body[:n]) != tt.msg || res.Header.Get("Content-Type") != "text/html" {
				t.Errorf("got %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body[:n])
			}
		})
	}
}

func TestWebSocketConcurrentSendsStayContiguous(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := newTestServer(t, Config{Logger: logger, WriteQueueSize: 4096}, false)
	ws, _, s := ts.dialSession()
	const senders, batches = 8, 50
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				id := fmt.Sprintf("%d-%d", g, i)
				if err := s.conn.Send(Message{Data: []byte(id + ":0")}, Message{Data: []byte(id + ":1"), Binary: true}, Message{Data: []byte(id + ":2")}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for n := 0; n < senders*batches; n++ {
		var id string
		for part := 0; part < 3; part++ {
			typ, got := read(t, ws)
			if typ == websocket.MessageText {
				got = strings.TrimPrefix(got, "4") // message packet type
			}
			prefix, idx, _ := strings.Cut(got, ":")
			if part == 0 {
				id = prefix
			}
			if prefix != id || idx != fmt.Sprint(part) || (typ == websocket.MessageBinary) != (part == 1) {
				t.Fatalf("batch %s interleaved: frame %d is %v %q", id, part, typ, got)
			}
		}
	}
	wg.Wait()
}
