package redisadapter

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Mode selects the Redis protocol.
type Mode string

// Supported modes (HUB_REDIS_MODE values).
const (
	ModeClassic Mode = "classic"
	ModeSharded Mode = "sharded"
	ModeStreams Mode = "streams" // see streams.go
)

// ParseMode parses a HUB_REDIS_MODE value; "" means classic.
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(strings.TrimSpace(s))) {
	case "", ModeClassic:
		return ModeClassic, nil
	case ModeSharded:
		return ModeSharded, nil
	case ModeStreams:
		return ModeStreams, nil
	}
	return "", fmt.Errorf("redisadapter: unknown mode %q (want classic, sharded or streams)", s)
}

// Defaults applied by New.
const (
	DefaultPrefix         = "socket.io"
	DefaultRequestTimeout = 5 * time.Second
	DefaultPublishQueue   = 16384
	DefaultMaxBatch       = 512
	DefaultMinBackoff     = 50 * time.Millisecond
	DefaultMaxBackoff     = 500 * time.Millisecond
)

// Errors.
var (
	ErrNoClient  = errors.New("redisadapter: Config.Client or Config.URL is required")
	ErrClosed    = errors.New("redisadapter: closed")
	ErrTimeout   = errors.New("redisadapter: timeout reached while waiting for responses")
	ErrQueueFull = errors.New("redisadapter: publish queue full")

	errInvalidEvent = errors.New("redisadapter: packet is not a valid EVENT")
)

// Config configures a Cluster. Every zero value means the documented default.
type Config struct {
	// Client is the Redis client to use (a *redis.Client, *redis.ClusterClient
	// or failover client). It is not closed by Cluster.Close. Either Client
	// or URL is required. A failover client given here is not watched for
	// +switch-master (sentinel.go): its subscriptions move to a new master
	// only when their connection breaks; a sentinel URL is.
	Client redis.UniversalClient
	// URL is parsed by NewClient when Client is nil (REDIS_URL); the client
	// it creates is closed by Cluster.Close.
	URL string
	// Mode is ModeClassic (default) or ModeSharded.
	Mode Mode
	// RecoveryWindow is, in ModeStreams, how long a disconnected session is
	// kept for connection state recovery (socketio RecoveryConfig's
	// MaxDisconnectionDuration). Zero: no offsets, no sessions.
	RecoveryWindow time.Duration
	// Prefix is the channel prefix, "socket.io" by default (Node's key /
	// channelPrefix option).
	Prefix string
	// RequestTimeout bounds fetchSockets, allRooms and serverSideEmit
	// requests. Default 5s, like Node's requestsTimeout.
	RequestTimeout time.Duration
	// PublishQueue bounds the messages waiting to be published. Default
	// 16384; when full, new publishes are dropped and counted.
	PublishQueue int
	// MaxBatch bounds the messages sent in one pipeline. Default 512.
	MaxBatch int
	// MinBackoff and MaxBackoff bound the subscription reconnect backoff.
	// Defaults 50ms and 500ms (a Redis that comes back is used again within
	// about half a second).
	MinBackoff, MaxBackoff time.Duration
	// Logger receives diagnostics. Nil discards them.
	Logger *slog.Logger
	// Registerer registers the Prometheus metrics. Nil registers nothing
	// (the metrics are still counted, see Cluster.Collectors).
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() error {
	if c.Mode == "" {
		c.Mode = ModeClassic
	}
	if c.Mode != ModeClassic && c.Mode != ModeSharded && c.Mode != ModeStreams {
		return fmt.Errorf("redisadapter: unknown mode %q", c.Mode)
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.PublishQueue <= 0 {
		c.PublishQueue = DefaultPublishQueue
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// NewClient builds a go-redis universal client from a REDIS_URL:
//
//   - redis://[user:password@]host:port[/db] and rediss:// (TLS) for one server;
//   - redis://host1:port,host2:port (several hosts), go-redis' own form
//     redis://host1:port?addr=host2:port&addr=..., or any of them with
//     cluster=true, for Redis Cluster (redis.ParseClusterURL);
//   - redis-sentinel://[password@]host:port[,host:port]/mastername[/db] or
//     a redis:// URL with master_name=... for Sentinel failover.
func NewClient(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: REDIS_URL: %w", err)
	}
	q := u.Query()
	switch {
	case isSentinelURL(u):
		opt, err := failoverOptions(u)
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(opt), nil
	case strings.Contains(u.Host, ",") || q.Get("cluster") == "true" || q.Has("addr"):
		// go-redis' cluster URL names one host and the others as addr=
		// parameters; also accept the common "host1:p1,host2:p2" form.
		q.Del("cluster")
		hosts := strings.Split(u.Host, ",")
		u.Host = hosts[0]
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		u.RawQuery = q.Encode()
		opt, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisadapter: REDIS_URL: %w", err)
		}
		return redis.NewClusterClient(opt), nil
	case u.Scheme == "redis" || u.Scheme == "rediss" || u.Scheme == "unix":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redisadapter: REDIS_URL: %w", err)
		}
		return redis.NewClient(opt), nil
	}
	return nil, fmt.Errorf("redisadapter: REDIS_URL: unsupported scheme %q", u.Scheme)
}

func isSentinelURL(u *url.URL) bool {
	return u.Scheme == "redis-sentinel" || u.Scheme == "rediss-sentinel" || u.Query().Has("master_name")
}

// failoverOptions parses a sentinel REDIS_URL (see NewClient).
func failoverOptions(u *url.URL) (*redis.FailoverOptions, error) {
	q := u.Query()
	opt := &redis.FailoverOptions{SentinelAddrs: strings.Split(u.Host, ",")}
	path := strings.Trim(u.Path, "/")
	parts := strings.Split(path, "/")
	opt.MasterName = q.Get("master_name")
	if opt.MasterName == "" && len(parts) > 0 {
		opt.MasterName, parts = parts[0], parts[1:]
	}
	if opt.MasterName == "" {
		return nil, errors.New("redisadapter: REDIS_URL: sentinel URL without master name")
	}
	if len(parts) > 0 && parts[0] != "" {
		var db int
		if _, err := fmt.Sscanf(parts[0], "%d", &db); err != nil {
			return nil, fmt.Errorf("redisadapter: REDIS_URL: bad db %q", parts[0])
		}
		opt.DB = db
	}
	if u.User != nil {
		pw, hasPW := u.User.Password()
		if hasPW {
			opt.Username, opt.Password = u.User.Username(), pw
		} else {
			opt.Password = u.User.Username()
		}
		opt.SentinelPassword = opt.Password
	}
	if u.Scheme == "rediss-sentinel" {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}
