package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Client contract events (namespace "/").
const (
	EventJoin    = "join"
	EventLeave   = "leave"
	EventPublish = "publish"
	// EventError is emitted to a socket when an operation it sent without an
	// ack fails, so that no failure is silent.
	EventError = "hub:error"
)

// MaxRoomsPerSocket bounds how many rooms one socket may join.
const MaxRoomsPerSocket = 1000

// Ack is the acknowledgement of a contract call: {ok:true} or {error:"..."}.
type Ack struct {
	OK    bool   `json:"ok,omitempty"`
	Error string `json:"error,omitempty"`
}

var ackOK = Ack{OK: true}

// Member is one connected socket as the contract sees it. Join and Leave
// change the socket's local room membership (the adapter takes care of
// cross-replica subscriptions).
type Member interface {
	ID() string
	Join(room string) error
	Leave(room string) error
}

// Broadcaster emits event(args...) to every socket in room on every replica,
// except the socket whose id is except ("" excludes nobody).
type Broadcaster interface {
	Broadcast(ctx context.Context, room, event string, args []any, except string) error
}

// ContractConfig configures [NewContract].
type ContractConfig struct {
	// Broadcaster delivers publishes. Required.
	Broadcaster Broadcaster
	// IsSocket reports whether id is the id of a socket connected to this
	// replica: such a room is never joinable nor publishable by a client
	// (see [IsSocketIDShaped] for the others). Nil = no local lookup.
	IsSocket func(id string) bool
	// Metrics is optional.
	Metrics *Metrics
	// Logger; nil = discard.
	Logger *slog.Logger
}

// Contract implements join/leave/publish for connected sockets and keeps the
// replica's room count. It is safe for concurrent use; per-socket state lives
// in a *Session.
type Contract struct {
	bc       Broadcaster
	isSocket func(id string) bool // nil = none known
	metrics  *Metrics
	log      *slog.Logger

	mu    sync.Mutex     // guards rooms
	rooms map[string]int // room → local members joined through the contract
}

// NewContract returns the contract.
func NewContract(cfg ContractConfig) (*Contract, error) {
	if cfg.Broadcaster == nil {
		return nil, errors.New("hub: contract needs a Broadcaster")
	}
	return &Contract{
		bc:       cfg.Broadcaster,
		isSocket: cfg.IsSocket,
		metrics:  cfg.Metrics,
		log:      orDiscard(cfg.Logger),
		rooms:    map[string]int{},
	}, nil
}

// Session is the contract's per-socket state.
type Session struct {
	m      Member
	grants Grants

	mu     sync.Mutex // guards joined, closed
	joined map[string]struct{}
	closed bool
}

// Connect starts a session for an authenticated member.
func (c *Contract) Connect(m Member, g Grants) *Session {
	return &Session{m: m, grants: g}
}

// Join handles `join(room, ack)`.
func (c *Contract) Join(s *Session, room string) Ack {
	if err := validateRoom(room); err != nil {
		return c.refuse("join", "bad_room", err.Error())
	}
	if c.socketRoom(room, s.grants.Join) {
		return c.refuse("join", "socket_room", "not allowed to join room "+room+": "+socketRoomRule)
	}
	if !s.grants.Join.Allows(room) {
		return c.refuse("join", "forbidden", "not allowed to join room "+room)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return c.refuse("join", "closed", "socket is disconnecting")
	}
	if _, ok := s.joined[room]; ok {
		return ackOK
	}
	if s.joined == nil {
		s.joined = make(map[string]struct{}, 1)
	}
	if len(s.joined) >= MaxRoomsPerSocket {
		return c.refuse("join", "too_many_rooms", fmt.Sprintf("too many rooms (at most %d per socket)", MaxRoomsPerSocket))
	}
	if err := s.m.Join(room); err != nil {
		c.log.Warn("join failed", "sid", s.m.ID(), "room", room, "err", err)
		return c.refuse("join", "join_failed", "join failed: "+err.Error())
	}
	s.joined[room] = struct{}{}
	c.addRoom(room, 1)
	return ackOK
}

// Restore accounts for a room a recovered socket is already in (connection
// state recovery gave it back). It reports false when the socket's current
// grants no longer allow the room, or the per-socket cap is reached: the
// caller then makes the socket leave it.
func (c *Contract) Restore(s *Session, room string) bool {
	if validateRoom(room) != nil || c.socketRoom(room, s.grants.Join) || !s.grants.Join.Allows(room) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if _, ok := s.joined[room]; ok {
		return true
	}
	if s.joined == nil {
		s.joined = make(map[string]struct{}, 1)
	}
	if len(s.joined) >= MaxRoomsPerSocket {
		return false
	}
	s.joined[room] = struct{}{}
	c.addRoom(room, 1)
	return true
}

// Leave handles `leave(room, ack)`. Leaving a room one is not in succeeds.
func (c *Contract) Leave(s *Session, room string) Ack {
	if err := validateRoom(room); err != nil {
		return c.refuse("leave", "bad_room", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.joined[room]; !ok {
		return ackOK
	}
	if err := s.m.Leave(room); err != nil {
		c.log.Warn("leave failed", "sid", s.m.ID(), "room", room, "err", err)
		return c.refuse("leave", "leave_failed", "leave failed: "+err.Error())
	}
	delete(s.joined, room)
	c.addRoom(room, -1)
	return ackOK
}

// Publish handles `publish(room, event, payload..., ack?)`: it emits
// event(payload...) to the room on every replica, except the publisher.
func (c *Contract) Publish(ctx context.Context, s *Session, room, event string, payload []any) Ack {
	if err := validateTarget(room, event); err != nil {
		return c.refuse("publish", "bad_publish", err.Error())
	}
	if c.socketRoom(room, s.grants.Publish) {
		return c.refuse("publish", "socket_room", "not allowed to publish to room "+room+": "+socketRoomRule)
	}
	if !s.grants.Publish.Allows(room) {
		return c.refuse("publish", "forbidden", "not allowed to publish to room "+room)
	}
	if err := c.bc.Broadcast(ctx, room, event, payload, s.m.ID()); err != nil {
		c.log.Warn("publish failed", "sid", s.m.ID(), "room", room, "event", event, "err", err)
		return c.refuse("publish", "publish_failed", "publish failed: "+err.Error())
	}
	c.metrics.messageIn("client")
	return ackOK
}

// Disconnect ends a session and forgets its rooms. It is idempotent.
func (c *Contract) Disconnect(s *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for room := range s.joined {
		c.addRoom(room, -1)
	}
	s.joined = nil
}

// Rooms returns the number of rooms with at least one local member.
func (c *Contract) Rooms() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rooms)
}

func (c *Contract) addRoom(room string, delta int) {
	c.mu.Lock()
	n := c.rooms[room] + delta
	if n <= 0 {
		delete(c.rooms, room)
	} else {
		c.rooms[room] = n
	}
	count := len(c.rooms)
	c.mu.Unlock()
	c.metrics.SetRooms(count)
}

// socketRoomRule explains a socket_room refusal. It is the same whether or
// not the id belongs to a connected socket, so that a refusal tells nothing
// about which ids exist.
const socketRoomRule = "it is or looks like a socket id (20 characters of A-Z a-z 0-9 - _), the private room of one socket"

// socketRoom reports whether a client must be refused room because it is a
// socket's own room: the id of a socket connected to this replica, or
// shaped like a socket id and not named exactly (no wildcard) in grants.
func (c *Contract) socketRoom(room string, grants RoomPatterns) bool {
	if c.isSocket != nil && c.isSocket(room) {
		return true
	}
	return IsSocketIDShaped(room) && !grants.Names(room)
}

// IsSocketIDShaped reports whether room has the shape of a Socket.IO socket
// id: exactly 20 characters of the URL-safe base64 alphabet (15 random
// bytes). The hub's socketio package and Node's socket.io (base64id) both
// make socket ids this way, so the test covers the sockets of every replica
// of a mixed Go/Node cluster, and the ids of disconnected sockets a
// recovery may bring back. Node's sharded Redis adapter is broader still: it
// takes every 20-character room for a socket id.
func IsSocketIDShaped(room string) bool {
	if len(room) != socketIDLen {
		return false
	}
	for i := 0; i < len(room); i++ {
		switch b := room[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// socketIDLen is the length of a Socket.IO socket id (base64 of 15 bytes).
const socketIDLen = 20

func (c *Contract) refuse(op, reason, msg string) Ack {
	c.metrics.Error(op + "_" + reason)
	return Ack{Error: msg}
}

func validateRoom(room string) error {
	switch {
	case room == "":
		return errors.New("room must be a non-empty string")
	case len(room) > maxNameLen:
		return fmt.Errorf("room is longer than %d bytes", maxNameLen)
	}
	return nil
}

// StringArg returns args[i] as a string; socket layers may hand arguments
// over decoded (string) or raw (json.RawMessage).
func StringArg(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	switch v := args[i].(type) {
	case string:
		return v, true
	case json.RawMessage:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case []byte:
		return "", false
	}
	return "", false
}
