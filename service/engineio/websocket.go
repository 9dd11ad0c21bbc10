package engineio

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// accept completes a websocket handshake. The origin was already checked by
// applyCORS, so coder/websocket's own same-origin check is skipped.
func (s *Server) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.cfg.Logger.Debug("engineio: websocket accept failed", "err", err)
		return nil, err
	}
	ws.SetReadLimit(int64(s.cfg.MaxPayload))
	return ws, nil
}

// handshakeWebSocket opens a websocket-only session. The request's goroutine
// becomes the session's reader.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	ws, err := s.accept(w, r)
	if err != nil {
		return
	}
	c := newConn(s, newHandshake(r, q), TransportWebSocket)
	c.ws = ws
	if !s.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "")
		return
	}
	c.open()
	frame := append([]byte{packetOpen}, s.openPacket(c.id, false)...)
	if err := c.writeDirect(ws, frame); err != nil {
		c.closeNow(ReasonTransportError)
		return
	}
	c.start()
	c.readLoop(ws)
}

// writeDirect writes one text frame with the write deadline, outside the
// writer goroutine (open packet, "3probe").
func (c *Conn) writeDirect(ws *websocket.Conn, frame []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.WriteTimeout)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, frame)
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

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// writeLoop is the websocket writer: it runs while packets are queued, then
// exits. It also performs the close of the websocket once the session is
// closed (after flushing the queue on a graceful close).
func (c *Conn) writeLoop() {
	bp := framePool.Get().(*[]byte)
	defer framePool.Put(bp)
	for {
		c.mu.Lock()
		ws := c.ws
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
				closeWebSocket(ws, reason)
				return
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.queueBytes = 0
		c.mu.Unlock()
		for i := range batch {
			if err := c.writePacket(ws, batch[i], bp); err != nil {
				// c.writing stays true: this goroutine closes ws next turn.
				c.closeNow(ReasonTransportError)
				break
			}
			batch[i] = packet{}
		}
	}
}

// writePacket writes one packet as one frame: binary messages as binary
// frames of raw bytes, everything else as text.
func (c *Conn) writePacket(ws *websocket.Conn, p packet, bp *[]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.WriteTimeout)
	defer cancel()
	if p.binary {
		return ws.Write(ctx, websocket.MessageBinary, p.data)
	}
	b := append((*bp)[:0], p.typ)
	b = append(b, p.data...)
	*bp = b
	return ws.Write(ctx, websocket.MessageText, b)
}

// upgradeWebSocket runs the upgrade dance on a websocket opened with the sid
// of a polling session: "2probe" → "3probe", then "5" switches the session to
// this websocket, whose goroutine then becomes the session reader.
func (s *Server) upgradeWebSocket(w http.ResponseWriter, r *http.Request, c *Conn) {
	if s.cfg.DisableUpgrades {
		s.fail(w, true, CodeBadRequest, "")
		return
	}
	ws, err := s.accept(w, r)
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
	c.probe = ws
	c.upgradeTimer = time.AfterFunc(s.cfg.UpgradeTimeout, func() { c.abortProbe(ws) })
	c.mu.Unlock()

	ctx := context.Background()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			c.abortProbe(ws)
			return
		}
		switch {
		case typ == websocket.MessageText && string(data) == "2probe":
			if c.writeDirect(ws, []byte("3probe")) != nil {
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
	c.ws = ws
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
		c.probe = nil
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
