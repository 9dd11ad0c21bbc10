package engineio

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ConnHandler receives one session's messages. OnMessage calls are sequential
// and in arrival order; OnClose is called exactly once, after the last
// OnMessage.
type ConnHandler interface {
	OnMessage(m Message) // m.Data is owned by the handler
	OnClose(reason string)
}

// Message is one Engine.IO message payload.
type Message struct {
	Data   []byte
	Binary bool // true: binary payload (ws binary frame / polling "b"+base64)
}

type connState int

const (
	stateOpen    connState = iota
	stateClosing           // graceful close: the queue is flushed, then the transport closes
	stateClosed
)

// Conn is one Engine.IO session. All its exported methods are safe for
// concurrent use.
type Conn struct {
	srv *Server
	id  string
	hs  *Handshake

	// recvMu is held while the handler is called: it serializes OnMessage
	// calls across transports (a polling POST and the websocket reader may
	// overlap during an upgrade) and orders OnClose after them.
	recvMu        sync.Mutex
	handler       ConnHandler // set in open, under recvMu
	closeNotified bool        // guarded by recvMu
	closed        atomic.Bool // state == stateClosed, read without mu

	mu         sync.Mutex
	state      connState
	reason     string
	transport  string
	opened     bool // the open packet is on its way; the ws writer may run
	queue      []packet
	queueBytes int
	closeNoop  bool // closed by the client's "1": a held poll gets "6", not "1"

	// polling
	pollActive bool
	postActive bool
	wake       chan struct{} // cap 1: wakes the held poll; nil on websocket-only sessions

	// websocket
	ws      *websocket.Conn
	wire    *wire // data frames of ws go here
	writing bool  // a writer (goroutine, or Send's inline attempt) owns c.wire's data writes and ws's closing

	// upgrade
	probe        *websocket.Conn
	probeWire    *wire
	probing      bool // "2probe" answered, "5" not yet received
	upgraded     bool
	upgradeTimer *time.Timer

	// heartbeat
	pingTimer     *time.Timer
	pongTimer     *time.Timer
	pingSeq       uint64
	awaitingPong  bool
	pongRefreshed bool
	closeTimer    *time.Timer
}

func newConn(s *Server, hs *Handshake, transport string) *Conn {
	c := &Conn{
		srv:       s,
		id:        newSID(),
		hs:        hs,
		transport: transport,
	}
	if transport == TransportPolling { // a send on a nil channel is never ready: signalLocked is a no-op
		c.wake = make(chan struct{}, 1)
	}
	return c
}

// ID returns the session id: 20 URL-safe base64 characters.
func (c *Conn) ID() string { return c.id }

// Handshake returns the opening request. It is shared: do not modify it.
func (c *Conn) Handshake() *Handshake { return c.hs }

// Transport returns the current transport, "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Send enqueues msgs contiguously and atomically: either all of them are
// queued, back to back, or none is. It never blocks. When the write queue
// cannot take them all, the session is closed with ReasonSlowConsumer and
// ErrQueueFull is returned; on a closing or closed session, ErrClosed.
func (c *Conn) Send(msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Data)
	}
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	cfg := &c.srv.cfg
	if len(c.queue)+len(msgs) > cfg.WriteQueueSize || c.queueBytes+n > cfg.WriteQueueBytes {
		c.mu.Unlock()
		c.srv.cfg.Logger.Debug("engineio: write queue full", "sid", c.id)
		c.closeNow(ReasonSlowConsumer)
		return ErrQueueFull
	}
	if c.transport == TransportWebSocket && c.opened && !c.writing && c.ws != nil && len(c.queue) == 0 && c.wire.raw != nil {
		// The writer is idle: try the socket right here, without a goroutine.
		c.writing = true
		wr := c.wire
		c.mu.Unlock()
		c.sendInline(wr, msgs)
		return nil
	}
	for _, m := range msgs {
		c.queue = append(c.queue, packet{typ: packetMessage, data: m.Data, binary: m.Binary})
	}
	c.queueBytes += n
	c.kickLocked()
	c.mu.Unlock()
	return nil
}

// Close closes the session from the server side with ReasonForcedClose, after
// flushing what is queued.
func (c *Conn) Close() { c.CloseWithReason(ReasonForcedClose) }

// CloseWithReason closes the session gracefully: no more Send is accepted,
// the queued packets are flushed, then the transport is closed (a polling
// client receives a close packet) and OnClose gets reason. A client that does
// not collect the queue within PingTimeout is dropped with the same reason.
func (c *Conn) CloseWithReason(reason string) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.reason = reason
	c.stopHeartbeatLocked()
	probe := c.takeProbeLocked()
	c.closeTimer = time.AfterFunc(c.srv.cfg.PingTimeout, func() { c.closeNow(reason) })
	c.kickLocked()
	c.mu.Unlock()
	c.closeProbe(probe)
}

// closeNow ends the session at once, discarding the queue. A graceful close
// in progress keeps its own reason.
func (c *Conn) closeNow(reason string) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.state == stateClosing {
		reason = c.reason
	}
	c.finalizeLocked(reason)
	ws := c.ws
	closeWS := ws != nil && !c.writing
	if closeWS {
		c.writing = true // nobody else writes or closes it now
	}
	// A slow consumer does not read: no close handshake (it would wait for
	// a reply that does not come), and a writer sitting in a write until
	// WriteTimeout is cut loose at once.
	cutWS := ws != nil && reason == ReasonSlowConsumer
	probe := c.takeProbeLocked()
	c.mu.Unlock()
	c.afterFinalize()
	c.closeProbe(probe)
	if cutWS || closeWS {
		c.srv.goTracked(func() { closeWebSocket(ws, reason) })
	}
}

// finalizeLocked moves the session to stateClosed. The caller must call
// afterFinalize once c.mu is released.
func (c *Conn) finalizeLocked(reason string) {
	c.state = stateClosed
	c.reason = reason
	c.closed.Store(true)
	c.queue = nil
	c.queueBytes = 0
	c.stopHeartbeatLocked()
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.signalLocked()
}

// afterFinalize unregisters the session and notifies the handler.
func (c *Conn) afterFinalize() {
	c.srv.unregister(c)
	if log := c.srv.cfg.Logger; log.Enabled(context.Background(), slog.LevelDebug) {
		c.mu.Lock()
		reason := c.reason
		c.mu.Unlock()
		log.Debug("engineio: session closed", "sid", c.id, "reason", reason)
	}
	c.notifyClose()
}

// notifyClose calls OnClose once the session is closed and no delivery is in
// progress. A deliverer holding recvMu calls it again after releasing it.
func (c *Conn) notifyClose() {
	if !c.closed.Load() || !c.recvMu.TryLock() {
		return
	}
	defer c.recvMu.Unlock()
	if c.closeNotified || c.handler == nil {
		return
	}
	c.closeNotified = true
	c.mu.Lock()
	reason := c.reason
	c.mu.Unlock()
	c.handler.OnClose(reason)
}

// open calls Config.OnConnection and installs the returned handler.
func (c *Conn) open() {
	c.srv.cfg.Logger.Debug("engineio: session opened", "sid", c.id, "transport", c.transport, "remote", c.hs.RemoteAddr)
	c.recvMu.Lock()
	h := c.srv.cfg.OnConnection(c)
	if h == nil {
		h = nopHandler{}
	}
	c.handler = h
	c.recvMu.Unlock()
	c.notifyClose() // OnConnection may have closed the session
}

// start marks the open packet as written and arms the heartbeat.
func (c *Conn) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened = true
	if c.state == stateOpen {
		c.pingTimer = time.AfterFunc(c.srv.cfg.PingInterval, c.onPingInterval)
	}
	c.kickLocked()
}

// deliver processes packets received from the client, in order, calling the
// handler for messages. It returns false once the session is no longer open.
func (c *Conn) deliver(p packet) bool {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	if c.awaitingPong && !c.pongRefreshed && p.typ != packetPong {
		// Like Node: traffic while a pong is due extends its deadline once.
		c.pongRefreshed = true
		c.armPongTimerLocked(c.pingSeq)
	}
	switch p.typ {
	case packetMessage:
		h := c.handler
		c.mu.Unlock()
		h.OnMessage(Message{Data: p.data, Binary: p.binary})
		return true
	case packetPong:
		c.awaitingPong = false
		if c.pongTimer != nil {
			c.pongTimer.Stop()
		}
		if c.pingTimer != nil {
			c.pingTimer.Reset(c.srv.cfg.PingInterval)
		}
		c.mu.Unlock()
		return true
	case packetPing: // the server pings in v4: "invalid heartbeat direction"
		c.mu.Unlock()
		c.closeNow(ReasonTransportError)
		return false
	case packetClose:
		c.closeNoop = true
		c.mu.Unlock()
		c.closeNow(ReasonTransportClose)
		return false
	default: // open, upgrade, noop: nothing to do
		c.mu.Unlock()
		return true
	}
}

func (c *Conn) onPingInterval() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return
	}
	c.pingSeq++
	c.awaitingPong = true
	c.pongRefreshed = false
	c.queue = append(c.queue, packet{typ: packetPing})
	c.armPongTimerLocked(c.pingSeq)
	c.kickLocked()
}

func (c *Conn) armPongTimerLocked(seq uint64) {
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
	c.pongTimer = time.AfterFunc(c.srv.cfg.PingTimeout, func() {
		c.mu.Lock()
		late := c.state == stateOpen && c.awaitingPong && c.pingSeq == seq
		c.mu.Unlock()
		if late {
			c.closeNow(ReasonPingTimeout)
		}
	})
}

func (c *Conn) stopHeartbeatLocked() {
	c.awaitingPong = false
	c.pingSeq++
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
}

// kickLocked gets queued packets (or a pending close) moving on the current
// transport: it wakes the held poll, or starts the websocket writer.
func (c *Conn) kickLocked() {
	if c.transport == TransportPolling {
		c.signalLocked()
		return
	}
	if c.opened && !c.writing && c.ws != nil && (len(c.queue) > 0 || c.state != stateOpen) {
		c.writing = true
		c.srv.goTracked(c.writeLoop)
	}
}

func (c *Conn) signalLocked() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWebSocket closes ws for a session that ended with reason: with a close
// handshake, except for a slow consumer (it does not read, so its reply would
// never come).
func closeWebSocket(ws *websocket.Conn, reason string) {
	if reason == ReasonSlowConsumer {
		_ = ws.CloseNow()
		return
	}
	_ = ws.Close(closeCode(reason), "")
}

// closeCode is the websocket close status for a session close reason.
func closeCode(reason string) websocket.StatusCode {
	switch reason {
	case ReasonParseError, ReasonTransportError:
		return websocket.StatusProtocolError
	case ReasonServerShuttingDown:
		return websocket.StatusGoingAway
	default:
		return websocket.StatusNormalClosure
	}
}

type nopHandler struct{}

func (nopHandler) OnMessage(Message) {}
func (nopHandler) OnClose(string)    {}
