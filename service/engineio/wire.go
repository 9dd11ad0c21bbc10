package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// wire is the write half of a server websocket connection, shared by this
// package's data frames and coder/websocket's control frames.
//
// coder/websocket owns the handshake, the read side and the close handshake;
// it writes control frames (close, pong) through a small bufio.Writer whose
// every Flush is one whole frame, into wire.Write. Data frames (Engine.IO
// packets) are encoded here, unmasked as a server sends them, into the same
// pending buffer, so a burst of queued packets leaves in one write(2) instead
// of one write per frame, with no context or timer per frame.
//
// Locks: flushMu is held by whoever writes to the socket, for the whole
// syscall; bufMu guards the pending bytes and is a leaf lock (taken last,
// never held across a syscall). A blocking write carries a deadline of
// WriteTimeout, set on the socket for that write only.
type wire struct {
	nc      net.Conn
	raw     syscall.RawConn // nil when nc is not a plain socket (TLS)
	timeout time.Duration

	pre []byte // bytes the HTTP server had read past the handshake

	flushMu sync.Mutex

	bufMu     sync.Mutex
	buf       *[]byte // pending frames; nil when empty (returned to wirePool)
	off       int     // bytes of *buf already written
	closeSent bool    // a close frame is pending or written: no data after it
}

// wireReadSize and controlWriteSize size the per-connection bufio buffers
// handed to coder/websocket (net/http's are 4 KiB each). A client frame up
// to 256 bytes (a pong, a join, a typical publish) takes one read(2); the
// payload of a larger one is read straight from the socket (one more read).
// Every control frame (at most 2+125 bytes unmasked) fits in the write
// buffer, so each of its flushes is one whole frame.
const (
	wireReadSize     = 256
	controlWriteSize = 256
	wireKeepCap      = 64 << 10 // a pending buffer grown past this is not pooled
)

var wirePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

var errWireClosed = errors.New("engineio: websocket closed for data")

func newWire(nc net.Conn, pre []byte, timeout time.Duration) *wire {
	w := &wire{nc: nc, pre: pre, timeout: timeout}
	if sc, ok := nc.(syscall.Conn); ok { // *net.TCPConn, not *tls.Conn
		if rc, err := sc.SyscallConn(); err == nil {
			w.raw = rc
		}
	}
	return w
}

// Read passes reads to the socket, after the bytes read ahead by net/http.
func (w *wire) Read(p []byte) (int, error) {
	if len(w.pre) > 0 { // only coder/websocket's reader calls Read
		n := copy(p, w.pre)
		w.pre = w.pre[n:]
		if len(w.pre) == 0 {
			w.pre = nil
		}
		return n, nil
	}
	return w.nc.Read(p)
}

// Write takes one control frame from coder/websocket and sends it with a
// blocking write (bounded by the deadline), flushing pending data first.
func (w *wire) Write(p []byte) (int, error) {
	w.bufMu.Lock()
	if len(p) > 0 && p[0]&0x0f == 0x8 {
		w.closeSent = true
	}
	w.appendLocked(p)
	w.bufMu.Unlock()
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	if err := w.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the socket; a writer blocked in it returns.
func (w *wire) Close() error { return w.nc.Close() }

func (w *wire) LocalAddr() net.Addr                { return w.nc.LocalAddr() }
func (w *wire) RemoteAddr() net.Addr               { return w.nc.RemoteAddr() }
func (w *wire) SetDeadline(t time.Time) error      { return w.nc.SetDeadline(t) }
func (w *wire) SetReadDeadline(t time.Time) error  { return w.nc.SetReadDeadline(t) }
func (w *wire) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

func (w *wire) appendLocked(p []byte) {
	if w.buf == nil {
		w.buf = wirePool.Get().(*[]byte)
	}
	*w.buf = append(*w.buf, p...)
}

// appendPackets encodes packets as data frames into the pending buffer.
func (w *wire) appendPackets(ps []packet) error {
	w.bufMu.Lock()
	defer w.bufMu.Unlock()
	if w.closeSent {
		return errWireClosed
	}
	if w.buf == nil {
		w.buf = wirePool.Get().(*[]byte)
	}
	b := *w.buf
	for _, p := range ps {
		b = appendDataFrame(b, p)
	}
	*w.buf = b
	return nil
}

// appendMessages encodes messages as data frames into the pending buffer.
func (w *wire) appendMessages(ms []Message) error {
	w.bufMu.Lock()
	defer w.bufMu.Unlock()
	if w.closeSent {
		return errWireClosed
	}
	if w.buf == nil {
		w.buf = wirePool.Get().(*[]byte)
	}
	b := *w.buf
	for _, m := range ms {
		b = appendDataFrame(b, packet{typ: packetMessage, data: m.Data, binary: m.Binary})
	}
	*w.buf = b
	return nil
}

// flush writes every pending byte, waiting for the socket under the deadline.
func (w *wire) flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	return w.flushLocked()
}

// appendDataFrame encodes p as one unmasked, unfragmented websocket frame:
// binary messages as binary frames of raw bytes, everything else as text
// frames holding the Engine.IO packet.
func appendDataFrame(b []byte, p packet) []byte {
	opcode, n := byte(0x1), 1+len(p.data)
	if p.binary {
		opcode, n = 0x2, len(p.data)
	}
	b = append(b, 0x80|opcode)
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !p.binary {
		b = append(b, p.typ)
	}
	return append(b, p.data...)
}

// pending returns the unwritten bytes. The slice stays valid while flushMu
// is held: appends only grow the buffer, and only the flush holder shrinks it.
func (w *wire) pending() []byte {
	w.bufMu.Lock()
	defer w.bufMu.Unlock()
	if w.buf == nil {
		return nil
	}
	return (*w.buf)[w.off:]
}

// advance records n bytes written; an emptied buffer goes back to the pool.
func (w *wire) advance(n int) {
	w.bufMu.Lock()
	defer w.bufMu.Unlock()
	w.off += n
	if w.off < len(*w.buf) {
		return
	}
	b := w.buf
	w.buf, w.off = nil, 0
	if cap(*b) <= wireKeepCap {
		*b = (*b)[:0]
		wirePool.Put(b)
	}
}

// flushLocked writes every pending byte, each write(2) under a deadline of
// w.timeout. The caller holds flushMu.
func (w *wire) flushLocked() error {
	for {
		p := w.pending()
		if len(p) == 0 {
			return nil
		}
		if err := w.nc.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
			return err
		}
		n, err := w.nc.Write(p)
		if n > 0 {
			w.advance(n)
		}
		if err != nil {
			return err
		}
	}
}

// tryFlushLocked writes what the socket takes without waiting: it reports
// done=false when bytes are left (the socket buffer is full, or the socket
// is not a plain one). The caller holds flushMu.
func (w *wire) tryFlushLocked() (done bool, err error) {
	if w.raw == nil {
		return len(w.pending()) == 0, nil
	}
	for {
		p := w.pending()
		if len(p) == 0 {
			return true, nil
		}
		var n int
		var werr error
		// Control, not Write: the fd stays valid while the function runs,
		// and there is no poller state to prepare for a wait that never
		// comes (RawConn.Write resets the poll descriptor and takes the
		// fd's write lock on every call; flushMu already serialises the
		// writers of this socket).
		rerr := w.raw.Control(func(fd uintptr) {
			for {
				n, werr = writeNow(fd, p)
				if werr != syscall.EINTR {
					return
				}
			}
		})
		if n > 0 {
			w.advance(n)
		}
		switch {
		case rerr != nil:
			return false, rerr
		case werr == syscall.EAGAIN:
			return false, nil
		case werr != nil:
			return false, werr
		case n <= 0:
			return false, nil
		}
	}
}

// hijacker wraps the ResponseWriter handed to websocket.Accept so that the
// connection it gets has small buffers and writes through a wire.
type hijacker struct {
	http.ResponseWriter
	timeout time.Duration
	wire    *wire
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("engineio: http.ResponseWriter does not implement http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	var pre []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		pre = append([]byte(nil), b...)
	}
	h.wire = newWire(nc, pre, h.timeout)
	rw := bufio.NewReadWriter(bufio.NewReaderSize(h.wire, wireReadSize), bufio.NewWriterSize(h.wire, controlWriteSize))
	return h.wire, rw, nil
}
