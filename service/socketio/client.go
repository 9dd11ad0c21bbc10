package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// engineConn is what a client needs from its Engine.IO session.
type engineConn interface {
	ID() string
	Transport() string
	// Send queues frames atomically and contiguously without blocking.
	Send(frames []parser.Frame) error
	CloseWithReason(reason string)
}

// client is one Engine.IO connection and the namespaces it joined.
type client struct {
	srv       *Server
	conn      engineConn
	handshake Handshake
	dec       *parser.Decoder // used only by the reader goroutine
	failed    bool            // reader goroutine only: an invalid packet was seen

	mu           sync.Mutex
	sockets      map[string]*Socket // by namespace name
	connectTimer *time.Timer
	closed       atomic.Bool
}

func (srv *Server) newClient(conn engineConn, hs Handshake) *client {
	c := &client{
		srv:       srv,
		conn:      conn,
		handshake: hs,
		dec: parser.NewDecoder(parser.DecoderConfig{
			MaxAttachments:         srv.cfg.MaxAttachments,
			MaxAttachmentSize:      srv.cfg.MaxPayload,
			MaxTotalAttachmentSize: srv.cfg.MaxAttachmentBytes,
		}),
		sockets: make(map[string]*Socket),
	}
	c.connectTimer = time.AfterFunc(srv.cfg.ConnectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0 && !c.closed.Load()
		c.mu.Unlock()
		if idle {
			srv.log.Debug("socketio: no namespace joined in time", "conn", conn.ID())
			conn.CloseWithReason(ReasonForcedClose)
		}
	})
	return c
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// write sends frames on the connection. Volatile frames are dropped when
// the connection is closed; errors mean the connection is gone (a full
// queue closes it as a slow consumer inside engineio).
func (c *client) write(frames []parser.Frame, volatile bool) error {
	_, err := c.send(frames, volatile)
	return err
}

// send is write also reporting whether the frames were queued (false for
// a volatile packet dropped on a closed connection).
func (c *client) send(frames []parser.Frame, volatile bool) (bool, error) {
	if c.closed.Load() {
		if volatile {
			return false, nil
		}
		return false, errClientClosed
	}
	if err := c.conn.Send(frames); err != nil {
		return false, err
	}
	return true, nil
}

// onFrame handles one Engine.IO message. Called sequentially.
func (c *client) onFrame(f parser.Frame) {
	if c.failed {
		return // closing: ignore what followed the invalid packet
	}
	p, err := c.dec.Add(f)
	if err != nil {
		c.srv.log.Debug("socketio: invalid packet", "conn", c.conn.ID(), "err", err)
		c.fail()
		return
	}
	if p == nil {
		return
	}
	nsp := p.Namespace()
	c.mu.Lock()
	s := c.sockets[nsp]
	c.mu.Unlock()
	switch {
	case s == nil && p.Type == parser.Connect:
		c.connect(nsp, p.Payload)
	case s != nil && p.Type != parser.Connect && p.Type != parser.ConnectError:
		s.onPacket(p)
	default:
		c.srv.log.Debug("socketio: invalid state", "conn", c.conn.ID(), "type", p.Type, "nsp", nsp)
		c.fail()
	}
}

// fail closes the connection after an invalid packet.
func (c *client) fail() {
	c.failed = true
	c.conn.CloseWithReason(ReasonParseError)
}

var invalidNamespace = json.RawMessage(`{"message":"Invalid namespace"}`)

func (c *client) connect(name string, auth json.RawMessage) {
	for range 3 { // a dynamic namespace may be dropped between lookup and add
		n := c.srv.lookupNamespace(name, c.handshake, auth)
		if n == nil {
			break
		}
		if n.add(c, auth) {
			return
		}
	}
	_ = c.write(mustEncode(&parser.Packet{Type: parser.ConnectError, Nsp: name, Payload: invalidNamespace}), false)
}

// attach records a connected socket; false if the connection is closed.
func (c *client) attach(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.sockets[s.nsp.name] = s
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	return true
}

// remove forgets a disconnected socket. Leaving the last namespace keeps
// the Engine.IO connection open, as in Node.
func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp.name] == s {
		delete(c.sockets, s.nsp.name)
	}
	c.mu.Unlock()
}

func (c *client) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
}

// disconnectAll disconnects every namespace then closes the connection.
func (c *client) disconnectAll() {
	for _, s := range c.socketList() {
		s.Disconnect(false)
	}
	c.conn.CloseWithReason(ReasonForcedClose)
}

// onClose is called once when the Engine.IO connection closed.
func (c *client) onClose(reason string) {
	c.mu.Lock()
	c.closed.Store(true)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	c.dec.Reset()
	for _, s := range c.socketList() {
		s.onClose(reason)
	}
	c.srv.forget(c)
}
