package engineio

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// accept completes a websocket handshake. The origin was already checked by
// applyCORS, so coder/websocket's own same-origin check is skipped.
// Data frames are written through the returned wire, never through ws.
func (s *Server) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, *wire, error) {
	hj := &hijacker{ResponseWriter: w, timeout: s.cfg.WriteTimeout}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.cfg.Logger.Debug("engineio: websocket accept failed", "err", err)
		return nil, nil, err
	}
	ws.SetReadLimit(int64(s.cfg.MaxPayload))
	return ws, hj.wire, nil
}

// handshakeWebSocket opens a websocket-only session. The session's reader is
// a fresh goroutine: the request's goroutine returns, so net/http's
// per-connection state (its 4 KiB read buffer, the request, a stack grown by
// the handshake) is garbage once the connection is hijacked.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	ws, wr, err := s.accept(w, r)
	if err != nil {
		return
	}
	c := newConn(s, newHandshake(r, q), TransportWebSocket)
	c.ws, c.wire = ws, wr
	if !s.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "")
		return
	}
	c.open()
	if err := writeDirect(wr, packet{typ: packetOpen, data: s.openPacket(c.id, false)}); err != nil {
		c.closeNow(ReasonTransportError)
		return
	}
	c.start()
	s.goTracked(func() { c.readLoop(ws) })
}

// writeDirect writes one packet with the write deadline, outside the writer
// goroutine (open packet, "3probe").
func writeDirect(wr *wire, p packet) error {
	if err := wr.appendPackets([]packet{p}); err != nil {
		return err
	}
	wr.flushMu.Lock()
	defer wr.flushMu.Unlock()
	if done, err := wr.tryFlushLocked(); done || err != nil {
		return err // the usual case: no deadline timer is armed on the socket
	}
	return wr.flushLocked()
}

// readLoop reads the session's websocket until it fails or is closed.
func (c *Conn) readLoop(ws *websocket.Conn) {
	ctx := context.Background()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			reason := ReasonTransportClose
			if errors.Is(err, websocket.ErrMessageTooBig) {
				reason = ReasonTransportError
			}
			c.closeNow(reason)
			return
		}
		p := packet{typ: packetMessage, data: data, binary: true}
		if typ != websocket.MessageBinary {
			if p, err = decodePacket(data); err != nil {
				c.closeNow(ReasonParseError)
				return
			}
		}
		c.recvMu.Lock()
		c.deliver(p)
		c.recvMu.Unlock()
		c.notifyClose()
	}
}

// writeLoop is the websocket writer: it runs while packets are queued, then
// exits. Each turn encodes the whole queue into the wire and sends it with
// as few writes as the socket allows, each under the write deadline. It also
// performs the close of the websocket once the session is closed (after
// flushing the queue on a graceful close).
func (c *Conn) writeLoop() {
	for {
		c.mu.Lock()
		ws, wr := c.ws, c.wire
		if c.state == stateClosed {
			reason := c.reason
			c.mu.Unlock()
			closeWebSocket(ws, reason)
			return
		}
		if len(c.queue) == 0 {
			if c.state == stateClosing {
				reason := c.reason
				c.finalizeLocked(reason)
				c.mu.Unlock()
				c.afterFinalize()
				if err := wr.flush(); err != nil {
					reason = ReasonSlowConsumer // no close handshake on a dead socket
				}
				closeWebSocket(ws, reason)
				return
			}
			if len(wr.pending()) > 0 { // left by Send's non-blocking attempt
				c.mu.Unlock()
				if err := wr.flush(); err != nil {
					c.closeNow(ReasonTransportError)
				}
				continue
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.queueBytes = 0
		c.mu.Unlock()
		err := wr.appendPackets(batch)
		clear(batch)
		if errors.Is(err, errWireClosed) {
			// coder/websocket has answered the peer's close frame (or
			// failed the read): the reader is about to close the session
			// with the right reason. What was queued cannot be sent.
			continue
		}
		if err == nil {
			err = wr.flush()
		}
		if err != nil {
			// c.writing stays true: this goroutine closes ws next turn.
			c.closeNow(ReasonTransportError)
		}
	}
}

// sendInline tries to write msgs at once from Send's goroutine, without
// waiting: the caller has made itself the writer (c.writing) with an empty
// queue on an open websocket session, and holds no lock. What the socket does
// not take at once is left to a writer goroutine, as is anything queued or a
// close that happened meanwhile.
func (c *Conn) sendInline(wr *wire, msgs []Message) {
	err := wr.appendMessages(msgs)
	done := false
	if errors.Is(err, errWireClosed) {
		err, done = nil, true // the reader is closing the session (see writeLoop)
	} else if err == nil && wr.flushMu.TryLock() {
		done, err = wr.tryFlushLocked()
		wr.flushMu.Unlock()
	}
	if err != nil {
		c.closeNow(ReasonTransportError)
	}
	c.mu.Lock()
	if done && len(c.queue) == 0 && c.state == stateOpen {
		c.writing = false
	} else {
		c.srv.goTracked(c.writeLoop)
	}
	c.mu.Unlock()
}

// upgradeWebSocket runs the upgrade dance on a websocket opened with the sid
// of a polling session: "2probe" → "3probe", then "5" switches the session to
// this websocket, whose reader goroutine then becomes the session reader. As
// in handshakeWebSocket, the request's goroutine returns after the accept.
func (s *Server) upgradeWebSocket(w http.ResponseWriter, r *http.Request, c *Conn) {
	if s.cfg.DisableUpgrades {
		s.fail(w, true, CodeBadRequest, "")
		return
	}
	ws, wr, err := s.accept(w, r)
	if err != nil {
		return
	}
	c.mu.Lock()
	if c.state != stateOpen || c.transport != TransportPolling || c.probe != nil || c.upgraded {
		// A second websocket for the sid, or a session already closing.
		c.mu.Unlock()
		_ = ws.Close(websocket.StatusPolicyViolation, "")
		return
	}
	c.probe, c.probeWire = ws, wr
	c.upgradeTimer = time.AfterFunc(s.cfg.UpgradeTimeout, func() { c.abortProbe(ws) })
	c.mu.Unlock()
	s.goTracked(func() { c.probeLoop(ws, wr) })
}

// probeLoop reads the probe websocket until the upgrade completes (then it
// reads the session) or fails.
func (c *Conn) probeLoop(ws *websocket.Conn, wr *wire) {
	ctx := context.Background()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			c.abortProbe(ws)
			return
		}
		switch {
		case typ == websocket.MessageText && string(data) == "2probe":
			if writeDirect(wr, packet{typ: packetPong, data: []byte("probe")}) != nil {
				c.abortProbe(ws)
				return
			}
			c.mu.Lock()
			if c.probe == ws {
				c.probing = true
				c.signalLocked() // a held poll is answered "6"
			}
			c.mu.Unlock()
		case typ == websocket.MessageText && string(data) == "5":
			if !c.switchTo(ws) {
				c.abortProbe(ws)
				return
			}
			c.readLoop(ws)
			return
		default:
			c.abortProbe(ws)
			return
		}
	}
}

// switchTo makes ws the session's transport and flushes the queue to it.
func (c *Conn) switchTo(ws *websocket.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.probe != ws || c.state != stateOpen {
		return false
	}
	c.probe = nil
	c.probing = false
	c.upgradeTimer.Stop()
	c.upgraded = true
	c.transport = TransportWebSocket
	c.ws, c.wire = ws, c.probeWire
	c.probeWire = nil
	c.opened = true
	c.signalLocked() // a poll still held gets "1", as in Node
	c.kickLocked()
	c.srv.cfg.Logger.Debug("engineio: upgraded to websocket", "sid", c.id)
	return true
}

// abortProbe closes a probe websocket that did not complete the upgrade; the
// session goes on over polling.
func (c *Conn) abortProbe(ws *websocket.Conn) {
	c.mu.Lock()
	var p *websocket.Conn
	if c.probe == ws {
		p = c.takeProbeLocked() // else whoever took it closes it
	}
	c.mu.Unlock()
	if p != nil {
		c.srv.cfg.Logger.Debug("engineio: upgrade probe aborted", "sid", c.id)
	}
	c.closeProbe(p)
}

func (c *Conn) takeProbeLocked() *websocket.Conn {
	p := c.probe
	if p != nil {
		c.probe, c.probeWire = nil, nil
		c.probing = false
		c.upgradeTimer.Stop()
	}
	return p
}

func (c *Conn) closeProbe(ws *websocket.Conn) {
	if ws != nil {
		c.srv.goTracked(func() { _ = ws.Close(websocket.StatusNormalClosure, "") })
	}
}
