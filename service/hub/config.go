package hub

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environment names the hub reads. They are fixed: the kit sets them.
const (
	EnvAddr           = "HUB_ADDR"
	EnvRedisURL       = "REDIS_URL"
	EnvEnv            = "HUB_ENV"
	EnvRedisMode      = "HUB_REDIS_MODE"
	EnvRecoveryWindow = "HUB_RECOVERY_WINDOW"
	EnvAPIKey         = "HUB_API_KEY"
	EnvJWTSecret      = "HUB_JWT_SECRET"
	EnvJWTPublicKey   = "HUB_JWT_PUBLIC_KEY"
	EnvAllowedOrigins = "HUB_ALLOWED_ORIGINS"
	EnvDrainWindow    = "HUB_DRAIN_WINDOW"
	EnvPingInterval   = "HUB_PING_INTERVAL"
	EnvPingTimeout    = "HUB_PING_TIMEOUT"
	EnvMaxPayload     = "HUB_MAX_PAYLOAD"
	EnvWriteQueue     = "HUB_WRITE_QUEUE"
	EnvLogLevel       = "HUB_LOG_LEVEL"
	EnvReplicaID      = "HUB_REPLICA_ID"
	EnvClientRate     = "HUB_CLIENT_RATE"
	EnvClientBurst    = "HUB_CLIENT_BURST"
)

// Values of HUB_ENV.
const (
	Development = "development"
	Production  = "production"
)

// Values of HUB_REDIS_MODE.
const (
	RedisClassic = "classic"
	RedisSharded = "sharded"
	RedisStreams = "streams"
)

// Defaults applied by [ConfigFromEnv] and [Config.withDefaults].
const (
	DefaultAddr           = ":3000"
	DefaultRecoveryWindow = 2 * time.Minute
	DefaultDrainWindow    = 20 * time.Second
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultWriteQueue     = 1024
)

// MinProductionSecret is the shortest HUB_JWT_SECRET accepted with
// HUB_ENV=production: 256 bits, as RFC 7518 requires for HS256.
const MinProductionSecret = 32

// Settings is the hub's configuration as read from the environment. Every
// field documents its zero-value meaning; [ConfigFromEnv] fills the defaults.
type Settings struct {
	// Addr is the listen address (HUB_ADDR). Default ":3000".
	Addr string
	// RedisURL (REDIS_URL) selects the Redis adapter; empty = in-memory,
	// single node.
	RedisURL string
	// Env is "development" (default) or "production" (HUB_ENV).
	Env string
	// RedisMode is "streams" (default: recovery across replicas), "classic"
	// or "sharded" (HUB_REDIS_MODE), used when RedisURL is set.
	RedisMode string
	// RecoveryWindow is how long a disconnected session may be recovered
	// (HUB_RECOVERY_WINDOW); 0 turns connection state recovery off.
	RecoveryWindow time.Duration
	// APIKey is the bearer key of POST /api/v1/publish (HUB_API_KEY); empty
	// disables the publish API.
	APIKey string
	// JWTSecret is the HS256 shared secret (HUB_JWT_SECRET).
	JWTSecret []byte
	// JWTPublicKey is the parsed PEM public key (HUB_JWT_PUBLIC_KEY): RSA,
	// ECDSA or Ed25519. Together with JWTSecret: both empty = no auth.
	JWTPublicKey crypto.PublicKey
	// AllowedOrigins is the origin allowlist (HUB_ALLOWED_ORIGINS,
	// comma-separated); empty allows every origin.
	AllowedOrigins []string
	// DrainWindow bounds shutdown after SIGTERM (HUB_DRAIN_WINDOW). Default 20s.
	DrainWindow time.Duration
	// PingInterval is the Engine.IO heartbeat interval. Default 25s.
	PingInterval time.Duration
	// PingTimeout is the Engine.IO heartbeat timeout. Default 20s.
	PingTimeout time.Duration
	// MaxPayload bounds one Engine.IO payload and one publish API body, in
	// bytes. Default 1000000.
	MaxPayload int
	// WriteQueue is the per-connection write queue length. Default 1024.
	WriteQueue int
	// LogLevel is the minimum log level (HUB_LOG_LEVEL). Default info.
	LogLevel slog.Level
	// ClientRate bounds the join, leave and publish events one connection
	// may send, per second (HUB_CLIENT_RATE); an event over the bound is
	// answered with the error "rate limited" and not carried out. Zero
	// (default) = no bound.
	ClientRate float64
	// ClientBurst is how many such events may come at once above
	// ClientRate (HUB_CLIENT_BURST). Default: twice ClientRate, at least 1.
	ClientBurst int
	// ReplicaID names this replica (HUB_REPLICA_ID) in the X-Hub-Replica
	// header of Socket.IO responses and in logs. Empty = no header.
	ReplicaID string
}

// AuthEnabled reports whether a JWT key is configured.
func (s Settings) AuthEnabled() bool {
	return len(s.JWTSecret) > 0 || s.JWTPublicKey != nil
}

// ConfigError is one bad configuration value.
type ConfigError struct {
	Key     string // environment name, e.g. "HUB_PING_INTERVAL"
	Value   string // offending value ("" when missing); secrets are not echoed
	Problem string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config %s: %s", e.Key, e.Problem)
	}
	return fmt.Sprintf("config %s=%q: %s", e.Key, e.Value, e.Problem)
}

// ConfigFromEnv reads and validates the hub's settings. getenv is usually
// os.Getenv. Every bad value yields one *ConfigError naming its key; all of
// them are returned together (errors.Join).
func ConfigFromEnv(getenv func(string) string) (Settings, error) {
	r := envReader{getenv: getenv}
	s := Settings{
		Addr:           r.addr(EnvAddr, DefaultAddr),
		RedisURL:       r.redisURL(EnvRedisURL),
		Env:            r.oneOf(EnvEnv, Development, Development, Production),
		RedisMode:      r.oneOf(EnvRedisMode, RedisStreams, RedisClassic, RedisSharded, RedisStreams),
		RecoveryWindow: r.duration(EnvRecoveryWindow, DefaultRecoveryWindow, true),
		ReplicaID:      strings.TrimSpace(getenv(EnvReplicaID)),
		APIKey:         r.secret(EnvAPIKey),
		JWTSecret:      []byte(r.secret(EnvJWTSecret)),
		JWTPublicKey:   r.publicKey(EnvJWTPublicKey),
		AllowedOrigins: r.origins(EnvAllowedOrigins),
		DrainWindow:    r.duration(EnvDrainWindow, DefaultDrainWindow, true),
		PingInterval:   r.duration(EnvPingInterval, DefaultPingInterval, false),
		PingTimeout:    r.duration(EnvPingTimeout, DefaultPingTimeout, false),
		MaxPayload:     r.positiveInt(EnvMaxPayload, DefaultMaxPayload),
		WriteQueue:     r.positiveInt(EnvWriteQueue, DefaultWriteQueue),
		LogLevel:       r.level(EnvLogLevel),
		ClientRate:     r.rate(EnvClientRate),
	}
	s.ClientBurst = r.positiveInt(EnvClientBurst, max(1, int(math.Ceil(2*s.ClientRate))))
	if s.ClientRate == 0 && r.get(EnvClientBurst) != "" && !r.failed(EnvClientBurst) {
		r.fail(EnvClientBurst, r.get(EnvClientBurst), "has no effect without HUB_CLIENT_RATE")
	}
	if len(s.JWTSecret) == 0 {
		s.JWTSecret = nil
	}
	if s.Env == Production {
		if s.RedisURL == "" {
			r.fail(EnvRedisURL, "", "required when HUB_ENV=production (a production hub is a cluster)")
		}
		if n := len(s.JWTSecret); n > 0 && n < MinProductionSecret {
			r.fail(EnvJWTSecret, "", fmt.Sprintf("%d bytes is too short for HS256 in production (at least %d; e.g. openssl rand -base64 48)", n, MinProductionSecret))
		}
		if !s.AuthEnabled() && !r.failed(EnvJWTPublicKey) {
			r.fail(EnvJWTSecret, "", "HUB_JWT_SECRET or HUB_JWT_PUBLIC_KEY is required when HUB_ENV=production (the hub refuses to run open)")
		}
	}
	if len(r.errs) > 0 {
		return s, errors.Join(r.errs...)
	}
	return s, nil
}

type envReader struct {
	getenv func(string) string
	errs   []error
}

func (r *envReader) fail(key, value, problem string) {
	r.errs = append(r.errs, &ConfigError{Key: key, Value: value, Problem: problem})
}

func (r *envReader) failed(key string) bool {
	for _, err := range r.errs {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Key == key {
			return true
		}
	}
	return false
}

func (r *envReader) get(key string) string { return strings.TrimSpace(r.getenv(key)) }

func (r *envReader) addr(key, def string) string {
	v := r.get(key)
	if v == "" {
		return def
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(key, v, "want host:port or :port")
		return def
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		r.fail(key, v, "port must be a number from 0 to 65535")
		return def
	}
	return v
}

func (r *envReader) redisURL(key string) string {
	v := r.get(key)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		// Never echo the value: it may carry a password.
		r.fail(key, "", "not a URL")
		return ""
	}
	switch u.Scheme {
	case "redis", "rediss", "redis-sentinel", "rediss-sentinel":
		if u.Host == "" {
			r.fail(key, "", "missing host (want redis://[:password@]host:port[/db])")
			return ""
		}
	case "unix":
		if u.Path == "" {
			r.fail(key, "", "missing socket path (want unix:///path/to/redis.sock)")
			return ""
		}
	default:
		r.fail(key, "", fmt.Sprintf("scheme %q not supported (want redis://, rediss://, redis-sentinel:// or unix://)", u.Scheme))
		return ""
	}
	return v
}

func (r *envReader) oneOf(key, def string, allowed ...string) string {
	v := strings.ToLower(r.get(key))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(key, v, "want one of "+strings.Join(allowed, ", "))
	return def
}

func (r *envReader) duration(key string, def time.Duration, zeroOK bool) time.Duration {
	v := r.get(key)
	if v == "" {
		return def
	}
	if v == "0" && zeroOK {
		return 0
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		r.fail(key, v, `not a duration (want e.g. "20s", "2m", "500ms")`)
		return def
	case d < 0:
		r.fail(key, v, "must not be negative")
		return def
	case d == 0 && !zeroOK:
		r.fail(key, v, "must be greater than zero")
		return def
	}
	return d
}

// rate reads events per second: a non-negative number, 0 or unset = none.
func (r *envReader) rate(key string) float64 {
	v := r.get(key)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		r.fail(key, v, "want events per second per connection, e.g. 20 or 0.5 (0 = no limit)")
		return 0
	}
	return f
}

func (r *envReader) positiveInt(key string, def int) int {
	v := r.get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		r.fail(key, v, "want a positive integer")
		return def
	}
	return n
}

func (r *envReader) secret(key string) string {
	// Secrets are taken verbatim (no trimming beyond surrounding space) and
	// never echoed in errors.
	return r.get(key)
}

func (r *envReader) publicKey(key string) crypto.PublicKey {
	v := r.get(key)
	if v == "" {
		return nil
	}
	k, err := ParsePublicKeyPEM([]byte(v))
	if err != nil {
		r.fail(key, "", err.Error())
		return nil
	}
	return k
}

func (r *envReader) origins(key string) []string {
	v := r.get(key)
	if v == "" {
		return nil
	}
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		norm, err := normalizeOrigin(o)
		if err != nil {
			r.fail(key, o, err.Error())
			continue
		}
		out = append(out, norm)
	}
	return out
}

func (r *envReader) level(key string) slog.Level {
	v := r.get(key)
	if v == "" {
		return slog.LevelInfo
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(key, v, "want debug, info, warn or error")
		return slog.LevelInfo
	}
	return l
}
