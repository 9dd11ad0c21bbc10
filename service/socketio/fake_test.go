package socketio

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// fakeConn is an in-memory engineConn: it records sent frames and, on
// close, calls the client's onClose like engineio does.
type fakeConn struct {
	id     string
	c      *client
	mu     sync.Mutex
	out    []parser.Frame
	reason string
	closed bool
	notify chan struct{}
}

func (f *fakeConn) ID() string        { return f.id }
func (f *fakeConn) Transport() string { return "websocket" }
func (f *fakeConn) Send(frames []parser.Frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errClientClosed
	}
	f.out = append(f.out, frames...)
	select {
	case f.notify <- struct{}{}:
	default:
	}
	return nil
}
func (f *fakeConn) CloseWithReason(r string) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed, f.reason = true, r
	f.mu.Unlock()
	go f.c.onClose(r)
}

// testConn drives one client of srv from a test.
type testConn struct {
	t    *testing.T
	f    *fakeConn
	next int
}

var connSeq struct {
	sync.Mutex
	n int
}

func dial(t *testing.T, srv *Server) *testConn {
	t.Helper()
	connSeq.Lock()
	connSeq.n++
	id := fmt.Sprintf("conn%d", connSeq.n)
	connSeq.Unlock()
	f := &fakeConn{id: id, notify: make(chan struct{}, 1)}
	f.c = srv.newClient(f, Handshake{Address: "127.0.0.1", Time: time.Now()})
	if !srv.track(f.c) {
		t.Fatal("server closed")
	}
	return &testConn{t: t, f: f}
}

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// send feeds a text frame as if the client sent it.
func (c *testConn) send(text string) { c.f.c.onFrame(parser.Frame{Data: []byte(text)}) }

func (c *testConn) sendBinary(b []byte) { c.f.c.onFrame(parser.Frame{Data: b, Binary: true}) }

// recv waits for the next frame written to the client.
func (c *testConn) recv() parser.Frame {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.f.mu.Lock()
		if c.next < len(c.f.out) {
			fr := c.f.out[c.next]
			c.next++
			c.f.mu.Unlock()
			return fr
		}
		c.f.mu.Unlock()
		select {
		case <-c.f.notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			c.t.Fatal("timed out waiting for a frame")
		}
	}
}

func (c *testConn) expect(text string) {
	c.t.Helper()
	if got := c.recv(); got.Binary || string(got.Data) != text {
		c.t.Fatalf("got %q (binary %v), want %q", got.Data, got.Binary, text)
	}
}

func (c *testConn) closeReason() (string, bool) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return c.f.reason, c.f.closed
}

// waitClosed polls until the connection was closed and returns the reason.
func (c *testConn) waitClosed() string {
	c.t.Helper()
	var r string
	waitFor(c.t, func() bool {
		var ok bool
		r, ok = c.closeReason()
		return ok
	})
	return r
}

// connect connects to nsp and returns the socket id from the CONNECT ack.
func (c *testConn) connect(nsp string) string {
	c.t.Helper()
	prefix := ""
	if nsp != "/" {
		prefix = nsp + ","
	}
	c.send("0" + prefix)
	fr := c.recv()
	var ack struct {
		SID string `json:"sid"`
	}
	head := "0" + prefix
	if len(fr.Data) < len(head) || string(fr.Data[:len(head)]) != head || json.Unmarshal(fr.Data[len(head):], &ack) != nil || ack.SID == "" {
		c.t.Fatalf("connect ack %q", fr.Data)
	}
	sid := ack.SID
	return sid
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, "condition", 5*time.Second, 2*time.Millisecond, cond)
}
