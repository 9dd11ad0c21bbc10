package engineio

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Server is an Engine.IO v4 server, mounted as an http.Handler.
type Server struct {
	cfg Config

	mu       sync.Mutex
	sessions map[string]*Conn
	closed   bool
	drained  chan struct{} // closed once closed && no session is left

	goMu    sync.Mutex
	running int           // goroutines started through s.goTracked
	idle    chan struct{} // closed when running drops to 0, if waited for
}

// NewServer validates cfg, applies its defaults and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		sessions: make(map[string]*Conn),
		drained:  make(chan struct{}),
	}, nil
}

// ServeHTTP handles every Engine.IO request: handshakes, polling GET/POST,
// websocket handshakes and upgrades. Mount it at the Engine.IO path, e.g.
// "/engine.io/" or "/socket.io/".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	upgrade := isWebSocketUpgrade(r)
	if !s.applyCORS(w, r) {
		s.fail(w, upgrade, CodeForbidden, "")
		return
	}
	if r.Method == http.MethodOptions && !upgrade {
		preflight(w, r)
		return
	}
	transport := q.Get("transport")
	if !s.cfg.allows(transport) {
		s.fail(w, upgrade, CodeUnknownTransport, "")
		return
	}
	if sid := q.Get("sid"); sid != "" {
		s.serveSession(w, r, q, sid, transport, upgrade)
		return
	}
	switch {
	case r.Method != http.MethodGet:
		s.fail(w, upgrade, CodeBadHandshakeMethod, "")
	case (transport == TransportWebSocket) != upgrade:
		s.fail(w, upgrade, CodeBadRequest, "")
	case s.isClosed():
		s.failStatus(w, upgrade, http.StatusServiceUnavailable, CodeBadRequest, shuttingDownMessage)
	case q.Get("EIO") != "4":
		s.fail(w, upgrade, CodeUnsupportedProtocol, "")
	case upgrade:
		s.handshakeWebSocket(w, r, q)
	default:
		s.handshakePolling(w, r, q)
	}
}

// serveSession routes a request that carries a sid.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, q map[string][]string, sid, transport string, upgrade bool) {
	c := s.lookup(sid)
	if c == nil {
		s.fail(w, upgrade, CodeUnknownSID, "")
		return
	}
	if eio := q["EIO"]; len(eio) == 0 || eio[0] != "4" {
		s.fail(w, upgrade, CodeBadRequest, "") // protocol mismatch
		return
	}
	if upgrade {
		if transport != TransportWebSocket {
			s.fail(w, upgrade, CodeBadRequest, "")
			return
		}
		s.upgradeWebSocket(w, r, c)
		return
	}
	if transport != TransportPolling || c.Transport() != TransportPolling {
		s.fail(w, false, CodeBadRequest, "") // transport mismatch, e.g. polling after upgrade
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r)
	case http.MethodPost:
		c.serveData(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError) // as Node's polling transport
	}
}

// handshakePolling opens a polling session; the response is the open packet.
func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	c := newConn(s, newHandshake(r, q), TransportPolling)
	if !s.register(c) {
		s.failStatus(w, false, http.StatusServiceUnavailable, CodeBadRequest, shuttingDownMessage)
		return
	}
	c.open()
	c.start()
	upgrades := !s.cfg.DisableUpgrades && s.cfg.allows(TransportWebSocket)
	body := append([]byte{packetOpen}, s.openPacket(c.id, upgrades)...)
	c.writePollResponse(w, body)
}

// Sessions returns a snapshot of the live sessions.
func (s *Server) Sessions() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		out = append(out, c)
	}
	return out
}

// Count returns the number of live sessions by current transport.
func (s *Server) Count() (polling, websocket int) {
	for _, c := range s.Sessions() {
		if c.Transport() == TransportWebSocket {
			websocket++
		} else {
			polling++
		}
	}
	return polling, websocket
}

// Close refuses new sessions (503) and closes every session with
// ReasonServerShuttingDown, flushing what is queued. It does not wait; see
// Shutdown. Close is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if len(s.sessions) == 0 {
			close(s.drained)
		}
	}
	s.mu.Unlock()
	for _, c := range s.Sessions() {
		c.CloseWithReason(ReasonServerShuttingDown)
	}
}

// Shutdown calls Close and waits until every session has ended and every
// goroutine the server started has returned, or ctx is done; in that case the
// remaining sessions are closed at once and ctx.Err() is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Close()
	select {
	case <-s.drained:
	case <-ctx.Done():
		for _, c := range s.Sessions() {
			c.closeNow(ReasonServerShuttingDown)
		}
		return ctx.Err()
	}
	return s.waitIdle(ctx)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) lookup(sid string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

// register adds c unless the server is closed.
func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[c.id] = c
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[c.id] != c {
		return
	}
	delete(s.sessions, c.id)
	if s.closed && len(s.sessions) == 0 {
		close(s.drained)
	}
}

// goTracked runs fn in a goroutine that Shutdown waits for.
func (s *Server) goTracked(fn func()) {
	s.goMu.Lock()
	s.running++
	s.goMu.Unlock()
	go func() {
		defer s.goDone()
		fn()
	}()
}

func (s *Server) goDone() {
	s.goMu.Lock()
	defer s.goMu.Unlock()
	s.running--
	if s.running == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// waitIdle waits until no tracked goroutine runs, or ctx is done.
func (s *Server) waitIdle(ctx context.Context) error {
	s.goMu.Lock()
	if s.running == 0 {
		s.goMu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.goMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail answers an error code with its default status.
func (s *Server) fail(w http.ResponseWriter, upgrade bool, code ErrorCode, msg string) {
	s.failStatus(w, upgrade, code.Status(), code, msg)
}

// failStatus writes an error: a JSON body {"code","message"} on plain
// requests; a text/html body holding only the message on websocket upgrade
// requests (Node's abortUpgrade).
func (s *Server) failStatus(w http.ResponseWriter, upgrade bool, status int, code ErrorCode, msg string) {
	if msg == "" {
		msg = code.Message()
	}
	h := w.Header()
	if upgrade {
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	body := make([]byte, 0, 64)
	body = append(body, `{"code":`...)
	body = strconv.AppendInt(body, int64(code), 10)
	body = append(body, `,"message":`...)
	body = strconv.AppendQuote(body, msg) // messages are ASCII constants
	body = append(body, '}')
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// isWebSocketUpgrade reports whether r asks for a websocket upgrade.
func isWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}
