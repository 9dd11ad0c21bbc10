package engineio

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

var errTooLarge = errors.New("engineio: payload too large")

// servePoll answers a polling GET: it is held until packets are queued, the
// session closes, or an upgrade probe needs the poll released.
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.pollActive {
		// A second concurrent GET: the session is closed (the held GET gets
		// "1") and this one is refused, as in Node.
		c.mu.Unlock()
		c.closeNow(ReasonTransportError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if c.state == stateClosed {
		c.mu.Unlock()
		c.srv.fail(w, false, CodeUnknownSID, "")
		return
	}
	c.pollActive = true
	finalized := false
	var body []byte
	for body == nil {
		switch {
		case c.state == stateClosed:
			if c.closeNoop {
				body = []byte{packetNoop}
			} else {
				body = []byte{packetClose}
			}
		case c.transport != TransportPolling: // upgraded while held
			body = []byte{packetClose}
		case c.state == stateClosing:
			body = c.takeLocked(len(c.queue), -1)
			if len(body) > 0 {
				body = append(body, recordSeparator)
			}
			body = append(body, packetClose)
			c.finalizeLocked(c.reason)
			finalized = true
		case len(c.queue) > 0:
			body = c.takeLocked(len(c.queue), c.srv.cfg.MaxPayload)
		case c.probing:
			body = []byte{packetNoop}
		default:
			c.mu.Unlock()
			select {
			case <-c.wake:
			case <-r.Context().Done():
				c.mu.Lock()
				c.pollActive = false
				c.mu.Unlock()
				c.closeNow(ReasonTransportError) // poll connection closed prematurely
				return
			}
			c.mu.Lock()
		}
	}
	c.pollActive = false
	c.mu.Unlock()
	if finalized {
		c.afterFinalize()
	}
	c.writePollResponse(w, body)
}

// takeLocked removes up to max packets from the queue and returns their
// payload. A positive limit bounds the payload size (at least one packet is
// always taken).
func (c *Conn) takeLocked(max, limit int) []byte {
	n, size := 0, 0
	for n < max {
		l := encodedLen(c.queue[n]) + 1
		if limit > 0 && n > 0 && size+l > limit {
			break
		}
		size += l
		n++
	}
	body := appendPayload(make([]byte, 0, size), c.queue[:n])
	for i := 0; i < n; i++ {
		c.queueBytes -= len(c.queue[i].data)
		c.queue[i] = packet{}
	}
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return body
}

// writePollResponse writes a polling payload (the headers Node sends).
func (c *Conn) writePollResponse(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveData handles a polling POST: the body is a payload of packets.
func (c *Conn) serveData(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.postActive {
		c.mu.Unlock()
		c.closeNow(ReasonTransportError) // data request overlap
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.postActive = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.postActive = false
		c.mu.Unlock()
	}()

	if r.Header.Get("Content-Type") == "application/octet-stream" {
		// Binary bodies do not exist in v4 (binary is "b"+base64).
		c.closeNow(ReasonTransportError)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, err := readBody(r, c.srv.cfg.MaxPayload)
	if err != nil {
		c.closeNow(ReasonTransportError)
		if errors.Is(err, errTooLarge) {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		return
	}
	if !c.receivePayload(body) {
		// Node destroys the request here; the reference test suite accepts
		// that or a 400.
		c.srv.fail(w, false, CodeBadRequest, "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// readBody reads at most limit bytes of r's body; errTooLarge above that.
func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, errTooLarge
	}
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: room to detect an overlong body
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r.Body, int64(limit)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// receivePayload delivers the packets of a POST body in order. A "1" closes
// the session (a held poll gets "6"); an undecodable packet closes it with
// ReasonParseError after the packets before it were delivered. It reports
// false when the payload made the session fail (answered 400).
func (c *Conn) receivePayload(body []byte) bool {
	c.recvMu.Lock()
	err := decodePayload(body, c.deliver)
	c.recvMu.Unlock()
	if err != nil {
		c.closeNow(ReasonParseError)
	}
	c.notifyClose()
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateClosed || c.closeNoop
}
