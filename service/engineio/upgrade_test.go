package engineio

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// probe opens the upgrade websocket of a polling session.
func (ts *testServer) probe(sid string) *websocket.Conn {
	ts.t.Helper()
	ws, err := ts.dial("EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func (s *session) pollHeld() bool {
	s.conn.mu.Lock()
	defer s.conn.mu.Unlock()
	return s.conn.pollActive
}

func TestUpgrade(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	held := ts.asyncGet(o.SID)
	eventually(t, "poll held", s.pollHeld)

	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "2probe")
	if _, got := read(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// While the probe is pending, the held GET is released with a noop.
	if r := <-held; r.status != 200 || r.body != "6" {
		t.Fatalf("held GET got %d %q, want noop", r.status, r.body)
	}
	// ...and so is any GET that comes while probing and finds nothing queued.
	if r := ts.get(o.SID); r.body != "6" {
		t.Fatalf("GET while probing got %q", r.body)
	}
	// The client may still POST over polling before sending "5".
	if r := ts.post(o.SID, "4via polling"); r.body != "ok" {
		t.Fatalf("POST while probing %q", r.body)
	}
	if m := s.next(t); string(m.Data) != "via polling" {
		t.Errorf("message %q", m.Data)
	}
	// Messages queued before the switch are flushed to the websocket after it.
	if err := s.conn.Send(Message{Data: []byte("buffered")}, Message{Data: []byte{7}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	if s.conn.Transport() != "polling" {
		t.Fatalf("transport switched before 5")
	}
	write(t, ws, websocket.MessageText, "5")
	if typ, got := read(t, ws); typ != websocket.MessageText || got != "4buffered" {
		t.Errorf("flushed %v %q", typ, got)
	}
	if typ, got := read(t, ws); typ != websocket.MessageBinary || got != "\x07" {
		t.Errorf("flushed binary %v %q", typ, got)
	}
	if s.conn.Transport() != "websocket" {
		t.Errorf("transport %q after upgrade", s.conn.Transport())
	}
	if p, w := ts.eio.Count(); p != 0 || w != 1 {
		t.Errorf("count polling=%d websocket=%d", p, w)
	}

	// After the switch, polling requests with the sid get 400.
	for _, r := range []response{ts.get(o.SID), ts.post(o.SID, "4x")} {
		if r.status != 400 || parseError(t, r.body).Code != 3 {
			t.Errorf("polling after upgrade: %d %q", r.status, r.body)
		}
	}
	// A second websocket for the sid is closed.
	second := ts.probe(o.SID)
	if code := readClose(t, second); code == -1 {
		t.Errorf("second websocket not closed with a status")
	}

	// The session goes on over the websocket.
	write(t, ws, websocket.MessageText, "4over ws")
	if m := s.next(t); string(m.Data) != "over ws" {
		t.Errorf("message %q", m.Data)
	}
	if err := s.conn.Send(Message{Data: []byte("down")}); err != nil {
		t.Fatal(err)
	}
	if _, got := read(t, ws); got != "4down" {
		t.Errorf("got %q", got)
	}
	select {
	case r := <-s.closed:
		t.Fatalf("session closed during upgrade: %s", r)
	default:
	}
}

func TestUpgradeQueuedDuringProbeGoesOverPolling(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "2probe")
	read(t, ws)
	if err := s.conn.Send(Message{Data: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	// Node flushes its buffer to a polling GET while the upgrade is pending.
	if r := ts.get(o.SID); r.body != "4m" {
		t.Fatalf("GET while probing got %q", r.body)
	}
}

func TestUpgradeHeldPollAtSwitchGetsClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	// A poll held when "5" arrives (here "5" comes without "2probe", which
	// Node accepts too) is answered "1", like Node's discarded polling
	// transport; the session itself goes on over the websocket.
	held := ts.asyncGet(o.SID)
	eventually(t, "poll held", s.pollHeld)
	write(t, ws, websocket.MessageText, "5")
	if r := <-held; r.body != "1" {
		t.Fatalf("poll held at switch got %q", r.body)
	}
	eventually(t, "switch", func() bool { return s.conn.Transport() == "websocket" })
	write(t, ws, websocket.MessageText, "4x")
	if m := s.next(t); string(m.Data) != "x" {
		t.Errorf("got %q", m.Data)
	}
}

func TestUpgradeProbeTimeout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{UpgradeTimeout: 50 * time.Millisecond}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "2probe")
	if _, got := read(t, ws); got != "3probe" {
		t.Fatalf("got %q", got)
	}
	// No "5": the probe socket is closed, the session goes on over polling.
	if code := readClose(t, ws); code != websocket.StatusNormalClosure {
		t.Errorf("probe close status %v", code)
	}
	if err := s.conn.Send(Message{Data: []byte("still here")}); err != nil {
		t.Fatal(err)
	}
	if r := ts.get(o.SID); r.body != "4still here" {
		t.Errorf("GET after probe timeout %d %q", r.status, r.body)
	}
	if s.conn.Transport() != "polling" {
		t.Errorf("transport %q", s.conn.Transport())
	}
	// A new upgrade attempt is accepted after the failed one.
	ws2 := ts.probe(o.SID)
	write(t, ws2, websocket.MessageText, "2probe")
	if _, got := read(t, ws2); got != "3probe" {
		t.Fatalf("second probe got %q", got)
	}
	write(t, ws2, websocket.MessageText, "5")
	eventually(t, "switch", func() bool { return s.conn.Transport() == "websocket" })
}

func TestUpgradeProbeInvalidPacket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "4not a probe")
	if code := readClose(t, ws); code == -1 {
		t.Errorf("probe not closed with a status")
	}
	if r := ts.post(o.SID, "4ok"); r.body != "ok" {
		t.Fatalf("session broken: %q", r.body)
	}
	if m := s.next(t); string(m.Data) != "ok" {
		t.Errorf("got %q", m.Data)
	}
}

func TestUpgradeConcurrentProbeRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, _ := ts.handshake()
	first := ts.probe(o.SID)
	write(t, first, websocket.MessageText, "2probe")
	read(t, first)
	second := ts.probe(o.SID)
	if code := readClose(t, second); code == -1 {
		t.Errorf("second probe not closed with a status")
	}
	write(t, first, websocket.MessageText, "2probe")
	if _, got := read(t, first); got != "3probe" {
		t.Errorf("first probe broken: %q", got)
	}
}

func TestUpgradeWebSocketSessionRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	_, o, s := ts.dialSession()
	ws := ts.probe(o.SID)
	if code := readClose(t, ws); code == -1 {
		t.Errorf("second websocket not closed with a status")
	}
	if s.conn.Transport() != "websocket" {
		t.Error("transport changed")
	}
}

func TestUpgradeDisabled(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{DisableUpgrades: true}, false)
	o, _ := ts.handshake()
	if _, err := ts.dial("EIO=4&transport=websocket&sid="+o.SID, nil); err == nil {
		t.Fatal("upgrade accepted with DisableUpgrades")
	}
}

func TestUpgradeSessionClosedDuringProbe(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	o, s := ts.handshake()
	ws := ts.probe(o.SID)
	write(t, ws, websocket.MessageText, "2probe")
	read(t, ws)
	if r := ts.post(o.SID, "1"); r.status != http.StatusOK {
		t.Fatalf("POST close %d", r.status)
	}
	if reason := s.waitClosed(t); reason != ReasonTransportClose {
		t.Errorf("reason %q", reason)
	}
	if code := readClose(t, ws); code == -1 {
		t.Errorf("probe not closed with a status")
	}
}
