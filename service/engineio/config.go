package engineio

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Transport names.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Config configures a Server. Every field documents its zero-value default;
// defaults are applied by NewServer (see Config.withDefaults).
type Config struct {
	// PingInterval is the time between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong. Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds the upgrade dance: no "5" after "2probe" within it
	// closes the probe websocket (the session goes on over polling). Default 10s.
	UpgradeTimeout time.Duration
	// MaxPayload is the polling body limit (413 above it) and the websocket
	// read limit (close 1009 above it), in bytes. Default 1_000_000.
	MaxPayload int
	// Transports lists the allowed transports. Default {"polling","websocket"}.
	Transports []string
	// DisableUpgrades makes the open packet advertise no upgrades and refuses
	// upgrade attempts.
	DisableUpgrades bool
	// AllowedOrigins is the CORS allowlist (exact origins such as
	// "https://app.example.com", or "*"). Empty = any origin: the request
	// Origin is reflected with credentials allowed. A request whose Origin is
	// not allowed is refused with 403 {"code":4,"message":"Forbidden"}.
	AllowedOrigins []string
	// WriteQueueSize bounds a session's write queue, in packets. A Send that
	// would exceed it closes the session with ReasonSlowConsumer. Default 1024.
	WriteQueueSize int
	// WriteQueueBytes bounds the bytes of message data queued per session, with
	// the same consequence as WriteQueueSize. Default 16 MiB.
	WriteQueueBytes int
	// WriteTimeout bounds each websocket write (and the polling response
	// write). A peer that does not read within it loses its session. Default 10s.
	WriteTimeout time.Duration
	// Logger receives debug logs. nil = discard.
	Logger *slog.Logger
	// OnConnection is required. It is called once per new session, before the
	// open packet is written and before any message is delivered, and returns
	// the handler of that session's messages (nil = messages are discarded).
	OnConnection func(c *Conn) ConnHandler
}

// Defaults.
const (
	DefaultPingInterval    = 25 * time.Second
	DefaultPingTimeout     = 20 * time.Second
	DefaultUpgradeTimeout  = 10 * time.Second
	DefaultMaxPayload      = 1_000_000
	DefaultWriteQueueSize  = 1024
	DefaultWriteQueueBytes = 16 << 20
	DefaultWriteTimeout    = 10 * time.Second
)

// withDefaults returns cfg with every zero field set to its default, or an
// error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.OnConnection == nil {
		return cfg, errors.New("engineio: Config.OnConnection is required")
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"PingInterval", &cfg.PingInterval, DefaultPingInterval},
		{"PingTimeout", &cfg.PingTimeout, DefaultPingTimeout},
		{"UpgradeTimeout", &cfg.UpgradeTimeout, DefaultUpgradeTimeout},
		{"WriteTimeout", &cfg.WriteTimeout, DefaultWriteTimeout},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return cfg, fmt.Errorf("engineio: Config.%s must not be negative, got %v", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	ints := []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxPayload", &cfg.MaxPayload, DefaultMaxPayload},
		{"WriteQueueSize", &cfg.WriteQueueSize, DefaultWriteQueueSize},
		{"WriteQueueBytes", &cfg.WriteQueueBytes, DefaultWriteQueueBytes},
	}
	for _, i := range ints {
		if *i.v < 0 {
			return cfg, fmt.Errorf("engineio: Config.%s must not be negative, got %d", i.name, *i.v)
		}
		if *i.v == 0 {
			*i.v = i.def
		}
	}
	if len(cfg.Transports) == 0 {
		cfg.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		cfg.Transports = append([]string(nil), cfg.Transports...)
		for _, t := range cfg.Transports {
			if t != TransportPolling && t != TransportWebSocket {
				return cfg, fmt.Errorf("engineio: Config.Transports: unknown transport %q", t)
			}
		}
	}
	origins := make([]string, 0, len(cfg.AllowedOrigins))
	for _, o := range cfg.AllowedOrigins {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			return cfg, errors.New("engineio: Config.AllowedOrigins: empty origin")
		}
		origins = append(origins, o)
	}
	cfg.AllowedOrigins = origins
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func (cfg *Config) allows(transport string) bool {
	for _, t := range cfg.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
