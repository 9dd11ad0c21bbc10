package engineio

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawWebSocket opens an Engine.IO websocket session over a bare TCP
// connection (no client-side goroutines) and reads the open packet.
func rawWebSocket(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := "GET " + testPath + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	var hdr [2]byte // server frames are unmasked; the open packet is < 126 bytes
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, hdr[1]&0x7f)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(payload), `0{"sid":"`) {
		t.Fatalf("open packet %q", payload)
	}
	return conn
}

// TestIdleWebSocketOneGoroutine shows the resource budget: an idle websocket
// session holds exactly one goroutine (its reader). Not parallel: it counts
// the process's goroutines.
func TestIdleWebSocketOneGoroutine(t *testing.T) {
	const sessions = 200
	ts := newTestServer(t, Config{PingInterval: time.Hour, PingTimeout: time.Hour}, false)
	addr := strings.TrimPrefix(ts.http.URL, "http://")
	// Warm up one session so lazily started runtime/net goroutines exist.
	warm := rawWebSocket(t, addr)
	eventually(t, "warm-up session", func() bool { _, w := ts.eio.Count(); return w == 1 })

	settle := func() int {
		// Goroutines of finished handshakes may take a moment to exit.
		prev, stable := -1, 0
		for i := 0; i < 500 && stable < 20; i++ {
			n := runtime.NumGoroutine()
			if n == prev {
				stable++
			} else {
				stable = 0
			}
			prev = n
			time.Sleep(time.Millisecond)
		}
		return prev
	}
	before := settle()
	conns := make([]net.Conn, 0, sessions)
	for i := 0; i < sessions; i++ {
		conns = append(conns, rawWebSocket(t, addr))
	}
	eventually(t, "all sessions open", func() bool { _, w := ts.eio.Count(); return w == sessions+1 })
	var delta int
	eventually(t, "one goroutine per idle session", func() bool {
		delta = settle() - before
		return delta == sessions
	})
	t.Logf("%d idle websocket sessions: +%d goroutines (%.2f per session)", sessions, delta, float64(delta)/sessions)

	for _, c := range append(conns, warm) {
		c.Close()
	}
	eventually(t, "sessions closed", func() bool { _, w := ts.eio.Count(); return w == 0 })
}
