package socketio

import (
	"errors"
	"log/slog"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
)

// Disconnect reasons, as Node's socket.io reports them.
const (
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonTransportClose            = "transport close"
	ReasonTransportError            = "transport error"
	ReasonPingTimeout               = "ping timeout"
	ReasonParseError                = "parse error"
	ReasonForcedClose               = "forced close"
	ReasonForcedServerClose         = "forced server close"
	ReasonServerShuttingDown        = "server shutting down"
)

// Defaults applied by New.
const (
	DefaultPath           = "/socket.io/"
	DefaultConnectTimeout = 45 * time.Second
	DefaultMaxPendingAcks = 1024
	DefaultMaxAttachments = 10
)

// Errors.
var (
	// ErrNotConnected is returned when emitting on a disconnected socket.
	ErrNotConnected = errors.New("socketio: socket is not connected")
	// ErrTooManyPendingAcks is returned when a socket already waits for
	// Config.MaxPendingAcks acknowledgements.
	ErrTooManyPendingAcks = errors.New("socketio: too many pending acknowledgements")
	// ErrAckTimeout is passed to an ack callback when no acknowledgement
	// arrived in time (Node: "operation has timed out").
	ErrAckTimeout = errors.New("operation has timed out")
	// ErrDisconnected is passed to pending ack callbacks when their socket
	// disconnects.
	ErrDisconnected = errors.New("socket has been disconnected")
	// ErrAckAlreadySent is returned by an AckFunc called twice.
	ErrAckAlreadySent = errors.New("socketio: ack already sent")
	// ErrBroadcastAckNeedsTimeout is returned by a broadcast emit with an
	// ack callback but no Timeout.
	ErrBroadcastAckNeedsTimeout = errors.New("socketio: broadcast with ack requires Timeout")
	// ErrReservedEvent is returned when emitting a reserved event name.
	ErrReservedEvent = errors.New("socketio: reserved event name")
)

// Config configures a Server. Every zero value means the documented default.
type Config struct {
	// Path is the URL path prefix served. Default "/socket.io/".
	Path string
	// ConnectTimeout closes a connection that joined no namespace in time.
	// Default 45s.
	ConnectTimeout time.Duration
	// MaxPendingAcks bounds the server→client acknowledgements one socket
	// may wait for. Default 1024.
	MaxPendingAcks int
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxAttachmentBytes bounds the total size of one packet's binary
	// attachments (each is also bounded by MaxPayload). Default: MaxPayload,
	// or 1,000,000 when MaxPayload is zero. Node has no such total cap; it
	// keeps a client from parking MaxAttachments × MaxPayload bytes.
	MaxAttachmentBytes int
	// Adapter creates each namespace's adapter. Default
	// adapter.MemoryFactory (single node).
	Adapter adapter.Factory
	// CleanupEmptyChildNamespaces drops a dynamic namespace (created by
	// OfMatch/OfRegexp) and closes its adapter when its last socket leaves
	// (Node's cleanupEmptyChildNamespaces). Default false: kept forever.
	CleanupEmptyChildNamespaces bool
	// Recovery enables connection state recovery. Nil disables it.
	Recovery *RecoveryConfig
	// Logger receives diagnostics. Nil discards them.
	Logger *slog.Logger
	// Observer is told about written events and ack timeouts (metrics).
	// Nil observes nothing.
	Observer Observer

	// Engine.IO settings (see engineio.Config; zero means its default).
	PingInterval    time.Duration
	PingTimeout     time.Duration
	UpgradeTimeout  time.Duration
	MaxPayload      int
	Transports      []string
	DisableUpgrades bool
	AllowedOrigins  []string
	WriteQueueSize  int
}

func (c *Config) setDefaults() error {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Path[0] != '/' {
		return errors.New("socketio: Config.Path must start with /")
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if c.ConnectTimeout < 0 || c.MaxPendingAcks < 0 || c.MaxAttachments < 0 || c.MaxAttachmentBytes < 0 || c.MaxPayload < 0 {
		return errors.New("socketio: negative Config value")
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxPendingAcks == 0 {
		c.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if c.MaxAttachments == 0 {
		c.MaxAttachments = DefaultMaxAttachments
	}
	if c.MaxAttachmentBytes == 0 {
		c.MaxAttachmentBytes = c.MaxPayload
		if c.MaxAttachmentBytes == 0 {
			c.MaxAttachmentBytes = 1_000_000
		}
	}
	if c.Recovery != nil {
		r := *c.Recovery
		if r.MaxDisconnectionDuration < 0 || r.MaxPackets < 0 {
			return errors.New("socketio: negative RecoveryConfig value")
		}
		if r.MaxDisconnectionDuration == 0 {
			r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		c.Recovery = &r
	}
	if c.Adapter == nil {
		if r := c.Recovery; r != nil {
			c.Adapter = func(nsp adapter.Namespace) (adapter.Adapter, error) {
				return adapter.NewMemory(adapter.MemoryConfig{
					Namespace: nsp,
					Recovery:  adapter.RecoveryConfig{Window: r.MaxDisconnectionDuration, MaxPackets: r.MaxPackets},
				})
			}
		} else {
			c.Adapter = adapter.MemoryFactory
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return nil
}
