package engineio

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWireFrameSizes sends messages across every websocket length encoding
// (7-bit, 16-bit, 64-bit) and reads them with coder/websocket's client, which
// rejects malformed frames.
func TestWireFrameSizes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	sizes := []int{0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 300_000}
	for _, binary := range []bool{false, true} {
		ws, _, s := ts.dialSession()
		for _, n := range sizes {
			data := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
			if err := s.conn.Send(Message{Data: data, Binary: binary}); err != nil {
				t.Fatal(err)
			}
			typ, got := read(t, ws)
			want, wantTyp := "4"+string(data), websocket.MessageText
			if binary {
				want, wantTyp = string(data), websocket.MessageBinary
			}
			if typ != wantTyp || got != want {
				t.Fatalf("binary=%v size %d: got %v frame of %d bytes, want %v of %d", binary, n, typ, len(got), wantTyp, len(want))
			}
		}
	}
}

// TestWirePingDuringBurst has the client ping while the server writes data
// frames as fast as it can: the pong (written by coder/websocket) and the
// data frames (written by this package) share the socket and must not cut
// into each other.
func TestWirePingDuringBurst(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueSize: 1 << 16, WriteQueueBytes: 1 << 30}, false)
	ws, _, s := ts.dialSession()
	const total = 5000
	payload := strings.Repeat("p", 300)
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			if err := s.conn.Send(Message{Data: []byte(fmt.Sprintf("%d:%s", i, payload))}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	pinged := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := 0; i < 20; i++ {
			if err := ws.Ping(ctx); err != nil {
				pinged <- err
				return
			}
		}
		pinged <- nil
	}()
	for i := 0; i < total; i++ {
		_, got := read(t, ws)
		if want := fmt.Sprintf("4%d:%s", i, payload); got != want {
			t.Fatalf("frame %d: got %.40q…", i, got)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// Pings are answered only while the client reads; keep reading until
	// the pinger is done.
	go func() {
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	if err := <-pinged; err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// TestWireCloseStopsData: once coder/websocket has written a close frame, data
// frames are refused instead of following it on the wire.
func TestWireCloseStopsData(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	w := newWire(a, nil, time.Second)
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := b.Read(buf)
		got <- buf[:n]
	}()
	if _, err := w.Write([]byte{0x88, 0x02, 0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	if frame := <-got; !bytes.Equal(frame, []byte{0x88, 0x02, 0x03, 0xe8}) {
		t.Fatalf("close frame on the wire: %x", frame)
	}
	if err := w.appendMessages([]Message{{Data: []byte("x")}}); err != errWireClosed {
		t.Fatalf("data after close: %v", err)
	}
	if p := w.pending(); len(p) != 0 {
		t.Fatalf("pending after close: %x", p)
	}
}

// TestWireReadsAheadBytesFirst: bytes the HTTP server read past the
// handshake reach coder/websocket before the socket's.
func TestWireReadsAheadBytesFirst(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newWire(a, []byte("early"), time.Second)
	go func() { _, _ = b.Write([]byte("late")) }()
	buf := make([]byte, 3)
	var out []byte
	for len(out) < len("earlylate") {
		n, err := w.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
	}
	if string(out) != "earlylate" {
		t.Fatalf("read %q", out)
	}
}

// TestAppendDataFrame checks the header bytes of each length encoding.
func TestAppendDataFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    packet
		head []byte
	}{
		{"text empty message", packet{typ: packetMessage}, []byte{0x81, 1, '4'}},
		{"text 125", packet{typ: packetMessage, data: make([]byte, 124)}, []byte{0x81, 125, '4'}},
		{"text 126", packet{typ: packetMessage, data: make([]byte, 125)}, []byte{0x81, 126, 0, 126, '4'}},
		{"binary 65535", packet{data: make([]byte, 65535), binary: true}, []byte{0x82, 126, 0xff, 0xff}},
		{"binary 65536", packet{data: make([]byte, 65536), binary: true}, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"ping", packet{typ: packetPing}, []byte{0x81, 1, '2'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := appendDataFrame(nil, tt.p)
			if !bytes.HasPrefix(b, tt.head) {
				t.Fatalf("header %x, want %x", b[:min(len(b), 10)], tt.head)
			}
			if want := len(tt.head) + len(tt.p.data); len(b) != want {
				t.Fatalf("frame of %d bytes, want %d", len(b), want)
			}
		})
	}
}

// TestSendInlineRace: many goroutines sending to many sessions while the
// clients read; every message arrives once, in per-sender order.
func TestSendInlineRace(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueSize: 4096}, false)
	const conns, msgs = 4, 300
	type peer struct {
		ws *websocket.Conn
		s  *session
	}
	peers := make([]peer, conns)
	for i := range peers {
		ws, _, s := ts.dialSession()
		peers[i] = peer{ws, s}
	}
	var wg sync.WaitGroup
	for _, p := range peers {
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < msgs; i++ {
					if err := p.s.conn.Send(Message{Data: []byte(fmt.Sprintf("%d-%d", g, i))}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	for _, p := range peers {
		next := [2]int{}
		for n := 0; n < 2*msgs; n++ {
			_, got := read(t, p.ws)
			var g, i int
			if _, err := fmt.Sscanf(got, "4%d-%d", &g, &i); err != nil || g < 0 || g > 1 {
				t.Fatalf("frame %q", got)
			}
			if i != next[g] {
				t.Fatalf("sender %d: got %d, want %d", g, i, next[g])
			}
			next[g]++
		}
	}
	wg.Wait()
}

// TestSendInlineNoWriterGoroutine: a Send to an idle websocket session whose
// socket has room is written from the caller's goroutine; the only goroutine
// the server runs for the session stays its reader.
func TestSendInlineNoWriterGoroutine(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, false)
	ws, _, s := ts.dialSession()
	running := func() int {
		ts.eio.goMu.Lock()
		defer ts.eio.goMu.Unlock()
		return ts.eio.running
	}
	eventually(t, "the open packet's writer to finish", func() bool { return running() == 1 })
	for i := 0; i < 50; i++ {
		if err := s.conn.Send(Message{Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		if n := running(); n != 1 {
			t.Fatalf("send %d: %d server goroutines, want only the reader", i, n)
		}
		if _, got := read(t, ws); got != fmt.Sprintf("4%d", i) {
			t.Fatalf("send %d: read %q", i, got)
		}
	}
}

// TestClientCloseDuringSendsIsTransportClose: a client closes while the server
// keeps sending. Data that finds coder/websocket's close reply already on
// the wire is dropped, and the session ends with the client's reason, not a
// transport error.
func TestClientCloseDuringSendsIsTransportClose(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{WriteQueueSize: 1 << 16, WriteQueueBytes: 1 << 30}, false)
	for i := 0; i < 10; i++ {
		ws, _, s := ts.dialSession()
		stop := make(chan struct{})
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s.conn.Send(Message{Data: []byte("tick")}) != nil {
					return
				}
			}
		}()
		_, _ = read(t, ws) // the server is sending
		_ = ws.Close(websocket.StatusNormalClosure, "")
		if reason := s.waitClosed(t); reason != ReasonTransportClose {
			t.Errorf("round %d: server close reason %q", i, reason)
		}
		close(stop)
		<-sent
	}
}
