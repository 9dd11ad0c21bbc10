package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Server is a Socket.IO server. Create it with New; it is an http.Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine engineServer // nil in unit tests that drive clients directly

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	clients map[*client]struct{}
	closed  bool
}

func newServer(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		nsps:    make(map[string]*Namespace),
		clients: make(map[*client]struct{}),
	}
	if _, err := s.of("/"); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the URL path prefix served.
func (s *Server) Path() string { return s.cfg.Path }

// Of returns the static namespace name, creating it if needed. A name
// without a leading "/" gets one. It panics only if the configured adapter
// factory fails; use OfErr to get the error instead.
func (s *Server) Of(name string) *Namespace {
	n, err := s.of(name)
	if err != nil {
		panic(err)
	}
	return n
}

// OfErr is Of returning the adapter factory's error.
func (s *Server) OfErr(name string) (*Namespace, error) { return s.of(name) }

func (s *Server) of(name string) (*Namespace, error) {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nsps[name]; ok {
		return n, nil
	}
	n, err := newNamespace(s, name)
	if err != nil {
		return nil, fmt.Errorf("socketio: namespace %q: %w", name, err)
	}
	s.nsps[name] = n
	return n, nil
}

// Sockets is shorthand for Of("/").
func (s *Server) Sockets() *Namespace { return s.Of("/") }

// Use adds a middleware to the main namespace.
func (s *Server) Use(m Middleware) { s.Of("/").Use(m) }

// OnConnection registers a connection handler on the main namespace.
func (s *Server) OnConnection(h func(*Socket)) { s.Of("/").OnConnection(h) }

// Emit broadcasts to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// To targets rooms of the main namespace.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.Of("/").To(rooms...) }

// In is an alias of To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except excludes rooms of the main namespace.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.Of("/").Except(rooms...) }

// NamespaceMatcher decides whether a dynamic namespace may be created for a
// CONNECT to name with the given handshake (auth is the raw CONNECT auth).
type NamespaceMatcher func(name string, hs Handshake) bool

// OfMatch registers a dynamic namespace group: a CONNECT to an unknown
// namespace for which match returns true creates that namespace as a child
// of the returned ParentNamespace (Node's io.of(func)).
func (s *Server) OfMatch(match NamespaceMatcher) *ParentNamespace {
	p := &ParentNamespace{srv: s, match: match, children: make(map[string]*Namespace)}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfRegexp is OfMatch with a regular expression on the name (Node's
// io.of(/regexp/)).
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfMatch(func(name string, _ Handshake) bool { return re.MatchString(name) })
}

func (s *Server) lookupNamespace(name string, hs Handshake, auth json.RawMessage) *Namespace {
	s.mu.RLock()
	n := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	hs.Auth = auth
	for _, p := range parents {
		if p.match(name, hs) {
			child, err := p.child(name)
			if err != nil {
				s.log.Error("socketio: create dynamic namespace", "nsp", name, "err", err)
				return nil
			}
			return child
		}
	}
	return nil
}

func (s *Server) track(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.clients[c] = struct{}{}
	return true
}

func (s *Server) forget(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// ParentNamespace groups the dynamic namespaces created by a matcher.
// Middleware and connection handlers registered on it are copied to each
// child when the child is created.
type ParentNamespace struct {
	srv   *Server
	match NamespaceMatcher

	mu           sync.Mutex
	middlewares  []Middleware
	onConnection []func(*Socket)
	children     map[string]*Namespace
}

// Use adds a middleware to every child created from now on.
func (p *ParentNamespace) Use(m Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, m)
	p.mu.Unlock()
}

// OnConnection adds a connection handler to every child created from now on.
func (p *ParentNamespace) OnConnection(h func(*Socket)) {
	p.mu.Lock()
	p.onConnection = append(p.onConnection, h)
	p.mu.Unlock()
}

// Children returns the namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// Emit broadcasts to every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, c := range p.Children() {
		if err := c.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

func (p *ParentNamespace) child(name string) (*Namespace, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.children[name]; ok {
		return c, nil
	}
	c, err := p.srv.of(name)
	if err != nil {
		return nil, err
	}
	c.parent = p
	for _, m := range p.middlewares {
		c.Use(m)
	}
	for _, h := range p.onConnection {
		c.OnConnection(h)
	}
	p.children[name] = c
	return c, nil
}

// engineServer is what Server needs from the Engine.IO server.
type engineServer interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request)
	Close()
}

// ServeHTTP serves Engine.IO requests under Config.Path; other paths get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.engine == nil || !strings.HasPrefix(r.URL.Path, s.cfg.Path) {
		http.NotFound(w, r)
		return
	}
	s.engine.ServeHTTP(w, r)
}

// Shutdown is Close, then waits until every Engine.IO session has ended or
// ctx is done (the remaining sessions are then dropped at once and
// ctx.Err() is returned).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.Close()
	if sh, ok := s.engine.(interface{ Shutdown(context.Context) error }); ok {
		if e := sh.Shutdown(ctx); e != nil {
			return e
		}
	}
	return err
}

// Close closes every connection (reason "server shutting down") and every
// namespace adapter, without waiting (see Shutdown). It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.Unlock()
	if s.engine != nil {
		s.engine.Close()
	}
	var errs []error
	for _, n := range nsps {
		if err := n.adapter.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Timeout returns an operator on the main namespace collecting acks for d.
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.Of("/").Timeout(d) }

// Local returns an operator on the main namespace restricted to this node.
func (s *Server) Local() *BroadcastOperator { return s.Of("/").Local() }

// Volatile returns an operator on the main namespace for droppable events.
func (s *Server) Volatile() *BroadcastOperator { return s.Of("/").Volatile() }

// drop removes an empty child namespace (CleanupEmptyChildNamespaces).
// Lock order: ParentNamespace.mu → Server.mu → Namespace.mu.
func (p *ParentNamespace) drop(n *Namespace) {
	p.mu.Lock()
	p.srv.mu.Lock()
	n.mu.Lock()
	gone := len(n.sockets) == 0 && !n.removed
	if gone {
		n.removed = true
		if p.srv.nsps[n.name] == n {
			delete(p.srv.nsps, n.name)
		}
		if p.children[n.name] == n {
			delete(p.children, n.name)
		}
	}
	n.mu.Unlock()
	p.srv.mu.Unlock()
	p.mu.Unlock()
	if gone {
		if err := n.adapter.Close(); err != nil {
			p.srv.log.Warn("socketio: close adapter", "nsp", n.name, "err", err)
		}
	}
}
