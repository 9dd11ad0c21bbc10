package socketio

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// ServerSideHandler handles an event sent by another server with
// ServerSideEmit; ack is nil when the sender expects no answer.
type ServerSideHandler func(args Args, ack func(args ...any))

// Namespace is a Socket.IO namespace: a set of sockets sharing middleware,
// handlers and rooms.
type Namespace struct {
	srv     *Server
	name    string
	adapter adapter.Adapter
	view    *nsView
	ackIDs  atomic.Uint64

	parent *ParentNamespace // nil for static namespaces

	mu           sync.RWMutex
	removed      bool // a dynamic child dropped once empty (CleanupEmptyChildNamespaces)
	sockets      map[string]*Socket
	middlewares  []Middleware
	onConnection []func(*Socket)
	serverSide   map[string]ServerSideHandler
}

func newNamespace(srv *Server, name string) (*Namespace, error) {
	n := &Namespace{
		srv:        srv,
		name:       name,
		sockets:    make(map[string]*Socket),
		serverSide: make(map[string]ServerSideHandler),
	}
	n.view = &nsView{n}
	a, err := srv.cfg.Adapter(n.view)
	if err != nil {
		return nil, err
	}
	n.adapter = a
	return n, nil
}

// Name returns the namespace name ("/", "/chat", ...).
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() adapter.Adapter { return n.adapter }

// Use appends a connection middleware.
func (n *Namespace) Use(m Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, m)
	n.mu.Unlock()
}

// OnConnection registers a handler called for every new socket.
func (n *Namespace) OnConnection(h func(s *Socket)) {
	n.mu.Lock()
	n.onConnection = append(n.onConnection, h)
	n.mu.Unlock()
}

// OnServerSideEmit registers the handler of a server-side event.
func (n *Namespace) OnServerSideEmit(event string, h ServerSideHandler) {
	n.mu.Lock()
	n.serverSide[event] = h
	n.mu.Unlock()
}

// Sockets returns the connected local sockets.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the local socket with the given id.
func (n *Namespace) Socket(id string) (*Socket, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.sockets[id]
	return s, ok
}

// NextAckID allocates an ack id (shared by all sockets of the namespace,
// as in Node, so broadcasts can use one id for every target).
func (n *Namespace) NextAckID() uint64 { return n.ackIDs.Add(1) - 1 }

func (n *Namespace) operator() *BroadcastOperator { return &BroadcastOperator{nsp: n} }

// To returns an operator targeting rooms.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.operator().To(rooms...) }

// In is an alias of To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except returns an operator excluding rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return n.operator().Except(rooms...)
}

// Local returns an operator restricted to this node.
func (n *Namespace) Local() *BroadcastOperator { return n.operator().Local() }

// Volatile returns an operator whose events may be dropped.
func (n *Namespace) Volatile() *BroadcastOperator { return n.operator().Volatile() }

// Timeout returns an operator collecting acks for at most d.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.operator().Timeout(d) }

// Emit broadcasts an event to every socket of the namespace (see
// BroadcastOperator.Emit).
func (n *Namespace) Emit(event string, args ...any) error {
	return n.operator().Emit(event, args...)
}

// FetchSockets returns every socket of the namespace (cluster-wide with a
// cluster adapter).
func (n *Namespace) FetchSockets(ctx context.Context) ([]adapter.SocketInfo, error) {
	return n.operator().FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (n *Namespace) SocketsJoin(ctx context.Context, rooms ...string) error {
	return n.operator().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket leave rooms.
func (n *Namespace) SocketsLeave(ctx context.Context, rooms ...string) error {
	return n.operator().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket.
func (n *Namespace) DisconnectSockets(ctx context.Context, close bool) error {
	return n.operator().DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to the other servers of the cluster.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return n.adapter.ServerSideEmit(ctx, prepend(event, args))
}

// ServerSideEmitWithAck sends an event to the other servers and returns one
// response per server.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	return n.adapter.ServerSideEmitWithAck(ctx, prepend(event, args))
}

// add runs the middleware for a CONNECT and connects the socket. It
// returns false, having sent nothing, when the namespace was removed
// meanwhile (the caller looks the name up again).
func (n *Namespace) add(c *client, auth json.RawMessage) bool {
	s := newSocket(n, c, auth)
	var missed []*parser.Packet
	var rooms []string
	if sess := n.restore(auth); sess != nil {
		s.id, s.pid, s.recovered, s.data = sess.SID, sess.PID, true, sess.Data
		missed, rooms = sess.Missed, sess.Rooms
	} else if n.srv.cfg.Recovery != nil {
		s.pid = newID()
	}
	var mws []Middleware
	if !s.recovered || n.srv.cfg.Recovery.RunMiddlewares {
		n.mu.RLock()
		mws = append(mws, n.middlewares...)
		n.mu.RUnlock()
	}
	for _, m := range mws {
		if err := m(s); err != nil {
			n.adapter.DelAll(s.id) // rooms joined by earlier middleware
			_ = c.write(mustEncode(&parser.Packet{
				Type: parser.ConnectError, Nsp: n.name, Payload: connectErrorPayload(err),
			}), false)
			return true
		}
	}
	n.mu.Lock()
	if n.removed {
		n.mu.Unlock()
		n.adapter.DelAll(s.id)
		return false
	}
	if !c.attach(s) {
		n.mu.Unlock()
		n.adapter.DelAll(s.id) // the connection closed meanwhile
		return true
	}
	s.connected.Store(true)
	n.sockets[s.id] = s
	handlers := append([](func(*Socket)){}, n.onConnection...)
	n.mu.Unlock()
	s.Join(append(rooms, s.id)...)
	n.track(s)
	// a recovered client gets the packets it missed before the CONNECT ack
	for _, p := range missed {
		p.Nsp = n.name
		if frames, err := parser.Encode(p); err == nil {
			if sent, _ := c.send(frames, false); sent {
				n.srv.cfg.Observer.EventWritten()
			}
		}
	}
	ack, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{s.id, s.pid})
	_ = c.write(mustEncode(&parser.Packet{Type: parser.Connect, Nsp: n.name, Payload: ack}), false)
	for _, h := range handlers {
		h(s)
	}
	return true
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	delete(n.sockets, s.id)
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty && n.parent != nil && n.srv.cfg.CleanupEmptyChildNamespaces {
		n.parent.drop(n)
	}
}

// nsView is the adapter's view of a Namespace.
type nsView struct{ n *Namespace }

var _ adapter.Namespace = (*nsView)(nil)

func (v *nsView) Name() string { return v.n.name }

func (v *nsView) Socket(id string) (adapter.Socket, bool) {
	s, ok := v.n.Socket(id)
	if !ok {
		return nil, false
	}
	return s.view, true
}

func (v *nsView) NextAckID() uint64 { return v.n.NextAckID() }

func (v *nsView) OnServerSideEmit(args []any, ack adapter.AckFunc) {
	if len(args) == 0 {
		return
	}
	name, ok := args[0].(string)
	if !ok {
		name, ok = eventName(args[0])
		if !ok {
			return
		}
	}
	v.n.mu.RLock()
	h := v.n.serverSide[name]
	v.n.mu.RUnlock()
	if h == nil {
		return
	}
	var reply func(args ...any)
	if ack != nil {
		reply = func(a ...any) { ack(a) }
	}
	h(Args(args[1:]), reply)
}
