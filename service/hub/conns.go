package hub

import (
	"errors"
	"net"
	"sync"
	"syscall"
)

// connTracker wraps a listener so that every accepted connection — HTTP,
// held polling requests and hijacked websockets alike — can be closed by the
// drain. Closing the TCP connection (rather than sending a Socket.IO
// DISCONNECT) is what makes socket.io-client reconnect on its own, to
// another replica behind the load balancer.
type connTracker struct {
	net.Listener
	mu        sync.Mutex
	conns     map[*trackedConn]struct{}
	closeOnce sync.Once
	closeErr  error
	closed    chan struct{} // closed once the listener is closed
}

func trackConns(ln net.Listener) *connTracker {
	return &connTracker{Listener: ln, conns: map[*trackedConn]struct{}{}, closed: make(chan struct{})}
}

// Close closes the listener (idempotent) and signals t.closed.
func (t *connTracker) Close() error {
	t.closeOnce.Do(func() {
		t.closeErr = t.Listener.Close()
		close(t.closed)
	})
	return t.closeErr
}

// Accept implements net.Listener.
func (t *connTracker) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc, nil
}

// Conns snapshots the open connections.
func (t *connTracker) Conns() []Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Conn, 0, len(t.conns))
	for c := range t.conns {
		out = append(out, c)
	}
	return out
}

// Len returns the number of open connections.
func (t *connTracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

// Close closes the connection once and forgets it.
func (c *trackedConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}

// SyscallConn exposes the socket of a TCP connection, so that the websocket
// writer can try a write without parking a goroutine (engineio's inline send).
func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("hub: connection has no socket")
}
