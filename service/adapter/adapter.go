package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// ErrClosed is returned by operations on a closed adapter.
var ErrClosed = errors.New("adapter: closed")

// BroadcastFlags are the per-broadcast modifiers (Node's flags object).
type BroadcastFlags struct {
	// Local restricts the broadcast to this node (never published).
	Local bool `msgpack:"local,omitempty" json:"local,omitempty"`
	// Volatile packets may be dropped when a client is not ready.
	Volatile bool `msgpack:"volatile,omitempty" json:"volatile,omitempty"`
	// Compress is Node's compress flag; nil means unset.
	Compress *bool `msgpack:"compress,omitempty" json:"compress,omitempty"`
	// Timeout bounds the wait for acknowledgements; zero means unset. Node
	// encodes it in milliseconds; see TimeoutMillis.
	Timeout time.Duration `msgpack:"-" json:"-"`
}

// TimeoutMillis returns Timeout in milliseconds (Node's unit), 0 if unset.
func (f BroadcastFlags) TimeoutMillis() int64 { return f.Timeout.Milliseconds() }

// BroadcastOptions selects the target sockets of a broadcast: every socket
// in any of Rooms (all sockets when Rooms is empty) that is in none of
// Except. A socket id is also a room holding only that socket.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  BroadcastFlags
}

// AckFunc receives one client's acknowledgement arguments.
type AckFunc func(args []any)

// SocketInfo describes a socket, local or on another node, as returned by
// FetchSockets. It is what Node's redis adapter serialises for a remote
// socket: {id, handshake, rooms, data}.
type SocketInfo struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	Data      any
	// Local is the live socket when it lives on this node, else nil.
	Local Socket
}

// Handshake is the connection metadata of a socket (Node's socket.handshake).
type Handshake struct {
	Header  http.Header
	Time    time.Time
	Address string
	XDomain bool
	Secure  bool
	Issued  int64
	URL     string
	Query   url.Values
	// Auth is the raw JSON auth payload of the CONNECT packet (nil if none).
	Auth json.RawMessage
}

// Socket is what an adapter needs from one local socket.
type Socket interface {
	// ID is the socket id (unique per namespace).
	ID() string
	// WriteFrames queues already-encoded frames; the frames are shared with
	// other sockets and must not be modified.
	WriteFrames(frames []parser.Frame, flags BroadcastFlags)
	// RegisterAck registers fn for the ack with the given id from this
	// client (used by broadcasts with acknowledgements); the registration
	// is dropped after timeout (zero: when the socket disconnects).
	RegisterAck(id uint64, timeout time.Duration, fn AckFunc) error
	// Info snapshots the socket for FetchSockets.
	Info() SocketInfo
	// Disconnect disconnects the socket; close also closes its connection.
	Disconnect(close bool)
	// Join and Leave change the socket's rooms through the namespace's
	// adapter (so that an adapter embedding Memory sees the change).
	Join(rooms ...string)
	Leave(room string)
}

// Namespace is what an adapter needs from the namespace it serves.
type Namespace interface {
	// Name is the namespace name, e.g. "/" or "/chat".
	Name() string
	// Socket returns the local socket with the given id.
	Socket(id string) (Socket, bool)
	// NextAckID allocates an ack id shared by all sockets of the namespace.
	NextAckID() uint64
	// OnServerSideEmit delivers a serverSideEmit from another node; ack is
	// nil when the sender expects no acknowledgement.
	OnServerSideEmit(args []any, ack AckFunc)
}

// Adapter keeps the rooms of one namespace and delivers broadcasts. The
// socketio package calls it; Memory implements it for one node; a
// cluster adapter adds cross-node delivery.
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of a local socket (nil if unknown).
	SocketRooms(id string) []string
	// Sockets returns the ids of the local sockets in any of rooms (all when
	// rooms is empty).
	Sockets(rooms []string) []string
	// Rooms returns every local room name.
	Rooms() []string

	// Broadcast encodes p once and writes it to the target sockets.
	Broadcast(ctx context.Context, p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck is Broadcast with acknowledgements: clientCount is
	// called once per node with the number of sockets written to, then ack
	// once per client acknowledgement.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions, clientCount func(n int), ack AckFunc) error

	// FetchSockets returns the matching sockets (remote ones on a cluster).
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the matching sockets join rooms.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the matching sockets leave rooms.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the matching sockets.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error

	// ServerSideEmit sends args (event name first) to the other nodes.
	ServerSideEmit(ctx context.Context, args []any) error
	// ServerSideEmitWithAck sends args to the other nodes and collects one
	// response per node until ctx ends.
	ServerSideEmitWithAck(ctx context.Context, args []any) ([][]any, error)
	// ServerCount is the number of nodes, this one included.
	ServerCount(ctx context.Context) (int, error)

	// Close releases the adapter's resources.
	Close() error
}

// Factory creates the adapter of a namespace. The socketio server calls it
// once per namespace.
type Factory func(nsp Namespace) (Adapter, error)

// Session is the state kept for connection state recovery.
type Session struct {
	SID   string
	PID   string
	Rooms []string
	Data  any
	// Missed holds the packets broadcast after the client's offset; set by
	// RestoreSession.
	Missed []*parser.Packet
}

// SessionStore is an optional Adapter capability used for connection state
// recovery (Node's SessionAwareAdapter): the socketio layer checks for it
// with a type assertion. Adapters that implement it append an offset to
// every non-volatile broadcast EVENT without ack id.
type SessionStore interface {
	// PersistSession stores s until it expires.
	PersistSession(ctx context.Context, s *Session) error
	// RestoreSession returns the stored session pid and the packets after
	// offset, or (nil, nil) if it cannot be recovered.
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)
}

var errNoNamespace = errors.New("adapter: MemoryConfig.Namespace is required")
