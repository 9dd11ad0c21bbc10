package engineio

import (
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestHeartbeatPolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond}, false)
	o, s := ts.handshake()
	for i := 0; i < 3; i++ {
		if r := ts.get(o.SID); r.body != "2" {
			t.Fatalf("ping %d: got %q", i, r.body)
		}
		if r := ts.post(o.SID, "3"); r.body != "ok" {
			t.Fatalf("pong %d: %q", i, r.body)
		}
	}
	// No pong: the session closes with "ping timeout".
	if r := ts.get(o.SID); r.body != "2" {
		t.Fatalf("got %q", r.body)
	}
	if reason := s.waitClosed(t); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
	if r := ts.get(o.SID); r.status != 400 || parseError(t, r.body).Code != 1 {
		t.Errorf("after ping timeout: %d %q", r.status, r.body)
	}
}

func TestHeartbeatWebSocket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond}, false)
	ws, _, s := ts.dialSession()
	for i := 0; i < 3; i++ {
		if _, got := read(t, ws); got != "2" {
			t.Fatalf("ping %d: got %q", i, got)
		}
		write(t, ws, websocket.MessageText, "3")
	}
	if _, got := read(t, ws); got != "2" {
		t.Fatalf("got %q", got)
	}
	if reason := s.waitClosed(t); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
	if code := readClose(t, ws); code != websocket.StatusNormalClosure {
		t.Errorf("close status %v", code)
	}
}

func TestHeartbeatTimeoutWithoutPolling(t *testing.T) {
	t.Parallel()
	// A polling client that stops polling entirely never sees the ping and
	// is closed pingInterval+pingTimeout after its last pong.
	ts := newTestServer(t, Config{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond}, false)
	_, s := ts.handshake()
	if reason := s.waitClosed(t); reason != ReasonPingTimeout {
		t.Errorf("reason %q", reason)
	}
}

func TestHeartbeatSurvivesUpgrade(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "2probe")
	read(t, ws)
	write(t, ws, websocket.MessageText, "5")
	for i := 0; i < 3; i++ {
		if _, got := read(t, ws); got != "2" {
			t.Fatalf("ping %d over ws: %q", i, got)
		}
		write(t, ws, websocket.MessageText, "3")
	}
	select {
	case r := <-s.closed:
		t.Fatalf("closed: %s", r)
	default:
	}
}
