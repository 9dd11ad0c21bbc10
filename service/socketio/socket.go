package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// Handshake is the connection metadata of a socket (Node's socket.handshake);
// Auth is the CONNECT auth payload, byte-for-byte.
type Handshake = adapter.Handshake

type pendingAck struct {
	fn    func(err error, args Args)
	timer *time.Timer
}

// Socket is one client connected to one namespace.
type Socket struct {
	id     string
	nsp    *Namespace
	client *client
	hs     Handshake
	view   *socketView

	connected atomic.Bool
	pid       string // private session id (recovery on), set before connect
	recovered bool

	mu              sync.Mutex
	handlers        map[string]EventHandler
	anyHandlers     []AnyHandler
	onDisconnecting []func(reason string)
	onDisconnect    []func(reason string)
	acks            map[uint64]*pendingAck
	data            any
}

func newSocket(nsp *Namespace, c *client, auth json.RawMessage) *Socket {
	s := &Socket{
		id:       newID(),
		nsp:      nsp,
		client:   c,
		hs:       c.handshake,
		handlers: make(map[string]EventHandler),
		acks:     make(map[uint64]*pendingAck),
	}
	if len(auth) == 0 {
		auth = json.RawMessage(`{}`) // Node: socket.handshake.auth defaults to {}
	}
	s.hs.Auth = auth
	s.view = &socketView{s}
	return s
}

// ID returns the socket id (distinct from the Engine.IO session id).
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the connection metadata; Auth is the raw CONNECT auth.
func (s *Socket) Handshake() Handshake { return s.hs }

// Transport returns the current Engine.IO transport name.
func (s *Socket) Transport() string { return s.client.conn.Transport() }

// ConnID returns the underlying Engine.IO session id.
func (s *Socket) ConnID() string { return s.client.conn.ID() }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool { return s.connected.Load() }

// Data returns the per-socket data set with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores per-socket data (returned by FetchSockets too).
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On registers the handler of event, replacing any previous one.
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	s.handlers[event] = h
	s.mu.Unlock()
}

// OnAny registers a handler called for every incoming event.
func (s *Socket) OnAny(h AnyHandler) {
	s.mu.Lock()
	s.anyHandlers = append(s.anyHandlers, h)
	s.mu.Unlock()
}

// OnDisconnecting registers a handler called before the socket leaves its
// rooms.
func (s *Socket) OnDisconnecting(h func(reason string)) {
	s.mu.Lock()
	s.onDisconnecting = append(s.onDisconnecting, h)
	s.mu.Unlock()
}

// OnDisconnect registers a handler called once the socket is disconnected.
func (s *Socket) OnDisconnect(h func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, h)
	s.mu.Unlock()
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.nsp.adapter.AddAll(s.id, rooms) }

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.nsp.adapter.Del(s.id, room) }

// Rooms returns the socket's rooms (its own id included).
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// Emit sends an event to this client. When the last argument is a
// func(Args) (or, after Timeout, a func(error, Args)) it is called with the
// client's acknowledgement.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, emitFlags{})
}

// EmitWithAck emits and waits for the acknowledgement or ctx's end.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	type result struct {
		args Args
		err  error
	}
	if parser.IsReservedEvent(event) {
		return nil, ErrReservedEvent
	}
	ch := make(chan result, 1)
	cb := func(err error, a Args) { ch <- result{a, err} }
	id, err := s.emitWithCallback(event, args, cb, 0, emitFlags{})
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		if s.takeAck(id) != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.nsp.srv.cfg.Observer.AckTimedOut()
		}
		return nil, ctx.Err()
	}
}

// Timeout returns an emitter whose ack callbacks get ErrAckTimeout after d.
func (s *Socket) Timeout(d time.Duration) *SocketEmitter {
	return &SocketEmitter{s: s, flags: emitFlags{timeout: d}}
}

// Volatile returns an emitter whose events may be dropped.
func (s *Socket) Volatile() *SocketEmitter {
	return &SocketEmitter{s: s, flags: emitFlags{volatile: true}}
}

// SocketEmitter emits to one socket with modifiers.
type SocketEmitter struct {
	s     *Socket
	flags emitFlags
}

// Timeout sets the ack timeout.
func (e *SocketEmitter) Timeout(d time.Duration) *SocketEmitter {
	e.flags.timeout = d
	return e
}

// Volatile marks the event as droppable.
func (e *SocketEmitter) Volatile() *SocketEmitter {
	e.flags.volatile = true
	return e
}

// Emit sends the event (see Socket.Emit).
func (e *SocketEmitter) Emit(event string, args ...any) error {
	return e.s.emit(event, args, e.flags)
}

type emitFlags struct {
	timeout  time.Duration
	volatile bool
}

func (s *Socket) emit(event string, args []any, f emitFlags) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	rest, cb, _, err := splitAck(args)
	if err != nil {
		return err
	}
	if cb != nil {
		_, err := s.emitWithCallback(event, rest, cb, f.timeout, f)
		return err
	}
	p := &parser.Packet{Type: parser.Event, Args: prepend(event, rest)}
	if s.nsp.sessionStore() != nil && !f.volatile {
		// through the adapter so the packet gets an offset and is logged
		if !s.Connected() {
			return ErrNotConnected
		}
		return s.nsp.adapter.Broadcast(context.Background(), p, adapter.BroadcastOptions{Rooms: []string{s.id}})
	}
	return s.writePacket(p, f.volatile)
}

func prepend(event string, args []any) []any {
	out := make([]any, 0, len(args)+1)
	out = append(out, event)
	return append(out, args...)
}

func (s *Socket) emitWithCallback(event string, args []any, cb func(error, Args), timeout time.Duration, f emitFlags) (uint64, error) {
	id := s.nsp.NextAckID()
	if err := s.registerAck(id, cb, timeout); err != nil {
		return 0, err
	}
	p := &parser.Packet{Type: parser.Event, Args: prepend(event, args), HasID: true, ID: id}
	if err := s.writePacket(p, f.volatile); err != nil {
		s.dropAck(id)
		return 0, err
	}
	return id, nil
}

func (s *Socket) registerAck(id uint64, cb func(error, Args), timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected.Load() {
		return ErrNotConnected
	}
	if len(s.acks) >= s.nsp.srv.cfg.MaxPendingAcks {
		return ErrTooManyPendingAcks
	}
	pa := &pendingAck{fn: cb}
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if s.takeAck(id) != nil {
				s.nsp.srv.cfg.Observer.AckTimedOut()
				cb(ErrAckTimeout, nil)
			}
		})
	}
	s.acks[id] = pa
	return nil
}

// takeAck removes and returns the pending ack id; the caller that gets it
// non-nil is the only one to call it.
func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa := s.acks[id]
	if pa != nil {
		delete(s.acks, id)
		if pa.timer != nil {
			pa.timer.Stop()
		}
	}
	return pa
}

func (s *Socket) dropAck(id uint64) { s.takeAck(id) }

func (s *Socket) writePacket(p *parser.Packet, volatile bool) error {
	if !s.Connected() {
		return ErrNotConnected
	}
	p.Nsp = s.nsp.name
	frames, err := parser.Encode(p)
	if err != nil {
		return err
	}
	sent, err := s.client.send(frames, volatile)
	if sent && (p.Type == parser.Event || p.Type == parser.BinaryEvent) {
		s.nsp.srv.cfg.Observer.EventWritten()
	}
	return err
}

// Disconnect disconnects the socket from its namespace (the client gets a
// DISCONNECT packet and reason "io server disconnect"); close also closes
// the underlying connection and every other namespace on it.
func (s *Socket) Disconnect(close bool) {
	if !s.Connected() {
		return
	}
	if close {
		s.client.disconnectAll()
		return
	}
	_ = s.client.write(mustEncode(&parser.Packet{Type: parser.Disconnect, Nsp: s.nsp.name}), false)
	s.onClose(ReasonServerNamespaceDisconnect)
}

func mustEncode(p *parser.Packet) []parser.Frame {
	f, err := parser.Encode(p)
	if err != nil {
		panic(err) // only called with packets that always encode
	}
	return f
}

// onPacket handles a packet from the client for this namespace.
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		name, ok := eventName(p.Args[0])
		if !ok {
			return
		}
		var ack AckFunc
		if p.HasID {
			ack = s.ackResponder(p.ID)
		}
		args := Args(p.Args[1:])
		s.mu.Lock()
		h := s.handlers[name]
		anys := append([]AnyHandler(nil), s.anyHandlers...)
		s.mu.Unlock()
		for _, a := range anys {
			a(name, args)
		}
		if h != nil {
			h(args, ack)
		}
	case parser.Ack, parser.BinaryAck:
		if pa := s.takeAck(p.ID); pa != nil {
			pa.fn(nil, Args(p.Args))
		}
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	}
}

func (s *Socket) ackResponder(id uint64) AckFunc {
	var once sync.Mutex
	sent := false
	return func(args ...any) error {
		once.Lock()
		defer once.Unlock()
		if sent {
			return ErrAckAlreadySent
		}
		sent = true
		return s.writePacket(&parser.Packet{Type: parser.Ack, HasID: true, ID: id, Args: args}, false)
	}
}

// onClose runs the disconnection: handlers, rooms, pending acks.
func (s *Socket) onClose(reason string) {
	if !s.connected.CompareAndSwap(true, false) {
		return
	}
	s.mu.Lock()
	disconnecting := s.onDisconnecting
	disconnect := s.onDisconnect
	acks := s.acks
	s.acks = make(map[uint64]*pendingAck)
	s.mu.Unlock()

	for _, h := range disconnecting {
		h(reason)
	}
	for _, pa := range acks {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		pa.fn(ErrDisconnected, nil)
	}
	s.persist(reason)
	s.nsp.adapter.DelAll(s.id)
	s.nsp.remove(s)
	s.client.remove(s)
	for _, h := range disconnect {
		h(reason)
	}
}

// Broadcast returns an operator targeting every socket of the namespace
// except this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return s.nsp.operator().Except(s.id)
}

// To returns an operator targeting rooms, excluding this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is an alias of To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except returns an operator targeting every socket except those in rooms
// and this one.
func (s *Socket) Except(rooms ...string) *BroadcastOperator {
	return s.Broadcast().Except(rooms...)
}

// socketView is the adapter's view of a Socket.
type socketView struct{ s *Socket }

var _ adapter.Socket = (*socketView)(nil)

func (v *socketView) ID() string { return v.s.id }

func (v *socketView) WriteFrames(frames []parser.Frame, flags adapter.BroadcastFlags) {
	if !v.s.Connected() {
		return
	}
	if sent, _ := v.s.client.send(frames, flags.Volatile); sent {
		v.s.nsp.srv.cfg.Observer.EventWritten()
	}
}

func (v *socketView) RegisterAck(id uint64, timeout time.Duration, fn adapter.AckFunc) error {
	return v.s.registerAck(id, func(err error, a Args) {
		if err == nil {
			fn(a)
		}
	}, timeout)
}

func (v *socketView) Info() adapter.SocketInfo {
	return adapter.SocketInfo{
		ID:        v.s.id,
		Handshake: v.s.hs,
		Rooms:     v.s.Rooms(),
		Data:      v.s.Data(),
		Local:     v,
	}
}

func (v *socketView) Disconnect(close bool) { v.s.Disconnect(close) }

// Join is a remote or broadcast join (socketsJoin): a socket that has
// disconnected meanwhile is left out of the rooms it already left.
func (v *socketView) Join(rooms ...string) {
	if v.s.Connected() {
		v.s.Join(rooms...)
	}
}
func (v *socketView) Leave(room string) { v.s.Leave(room) }

var errClientClosed = errors.New("socketio: connection closed")
