package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/service/adapter"
)

// Cluster owns the Redis connections shared by the namespace adapters of
// one socketio server.
type Cluster struct {
	cfg        Config
	client     redis.UniversalClient
	ownsClient bool
	log        *slog.Logger
	m          *metrics
	pub        *publisher

	mu     sync.Mutex
	subs   map[int]*subscriber // by hash slot on Redis Cluster in sharded mode; key -1 otherwise
	closed bool

	hmu      sync.RWMutex
	handlers map[string]handler // "<prefix>#<nsp>#" (and "-request"/"-response" forms) → namespace adapter

	streams *streamsCore // ModeStreams only, created with the first namespace (streams_core.go)

	subq     chan subOp    // subscription changes, applied in order by subWorker
	stopSubq chan struct{} // closed by Close

	ready     chan struct{}
	readyOnce sync.Once
	upCount   atomic.Int32 // subscribers currently connected
	wg        sync.WaitGroup
}

// handler receives the messages of one namespace.
type handler interface {
	onMessage(channel string, payload []byte)
}

// patternHandler is a handler that tells the messages it gets through a
// pattern subscription from those of its exact subscriptions (streams
// mode subscribes both to a channel and to a pattern matching it). A
// handler without it gets both kinds through onMessage.
type patternHandler interface {
	handler
	onPatternMessage(channel string, payload []byte)
}

// New connects to Redis (cfg.Client, or a client built from cfg.URL),
// checks it answers within ctx, and starts the subscription loop and the
// publisher.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, log: cfg.Logger, m: newMetrics(), subs: map[int]*subscriber{},
		handlers: map[string]handler{}, ready: make(chan struct{}),
		subq: make(chan subOp, 65536), stopSubq: make(chan struct{})}
	switch {
	case cfg.Client != nil:
		c.client = cfg.Client
	case cfg.URL != "":
		cl, err := NewClient(cfg.URL)
		if err != nil {
			return nil, err
		}
		c.client, c.ownsClient = cl, true
	default:
		return nil, ErrNoClient
	}
	if err := c.ping(ctx); err != nil {
		if c.ownsClient {
			_ = c.client.Close()
		}
		return nil, err
	}
	if cfg.Registerer != nil {
		for _, col := range c.m.collectors() {
			if err := cfg.Registerer.Register(col); err != nil {
				if c.ownsClient {
					_ = c.client.Close()
				}
				return nil, fmt.Errorf("redisadapter: register metrics: %w", err)
			}
		}
	}
	c.pub = newPublisher(c.client, cfg.PublishQueue, cfg.MaxBatch, c.m, c.log)
	c.goTracked(c.subWorker)
	if opt := sentinelURLOptions(cfg.URL); c.ownsClient && opt != nil {
		c.watchSentinels(opt)
	}
	c.log.Info("redisadapter: connected", "mode", string(cfg.Mode), "prefix", cfg.Prefix)
	return c, nil
}

// ping checks that Redis answers; on Redis Cluster it loads the slot map
// (so the first SSUBSCRIBE goes to the slot's owner) and pings every shard.
func (c *Cluster) ping(ctx context.Context) error {
	if cc, ok := c.client.(*redis.ClusterClient); ok {
		cc.ReloadState(ctx)
		if err := cc.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
			return n.Ping(ctx).Err()
		}); err != nil {
			return fmt.Errorf("redisadapter: ping cluster: %w", err)
		}
		return nil
	}
	if err := c.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisadapter: ping: %w", err)
	}
	return nil
}

// Collectors returns the Prometheus collectors, for callers that register
// them themselves.
func (c *Cluster) Collectors() []prometheus.Collector { return c.m.collectors() }

// Mode returns the protocol in use.
func (c *Cluster) Mode() Mode { return c.cfg.Mode }

// Ready reports whether the subscription was confirmed at least once. It
// stays true through later Redis outages (see Connected).
func (c *Cluster) Ready() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until Ready or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Connected reports whether every subscription connection is up right now.
func (c *Cluster) Connected() bool {
	c.mu.Lock()
	n := len(c.subs)
	c.mu.Unlock()
	return n > 0 && int(c.upCount.Load()) == n
}

// Factory returns the adapter.Factory to give socketio.Config.Adapter.
func (c *Cluster) Factory() adapter.Factory {
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		return c.NewAdapter(nsp)
	}
}

// NewAdapter creates the adapter of one namespace and subscribes its
// channels.
func (c *Cluster) NewAdapter(nsp adapter.Namespace) (adapter.Adapter, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	switch c.cfg.Mode {
	case ModeSharded:
		return newSharded(c, nsp)
	case ModeStreams:
		return newStreams(c, nsp)
	}
	return newClassic(c, nsp)
}

// nsKey extracts the "<a>#<nsp>#" part of a channel name.
func nsKey(channel string) string {
	i := strings.IndexByte(channel, '#')
	if i < 0 {
		return channel
	}
	j := strings.IndexByte(channel[i+1:], '#')
	if j < 0 {
		return channel
	}
	return channel[:i+1+j+1]
}

func (c *Cluster) register(key string, h handler) {
	c.hmu.Lock()
	c.handlers[key] = h
	c.hmu.Unlock()
}

func (c *Cluster) unregister(key string) {
	c.hmu.Lock()
	delete(c.handlers, key)
	c.hmu.Unlock()
}

func (c *Cluster) dispatch(channel string, payload []byte) {
	c.m.received.Inc()
	c.hmu.RLock()
	h := c.handlers[nsKey(channel)]
	c.hmu.RUnlock()
	if h != nil {
		h.onMessage(channel, payload)
	}
}

// dispatchSub routes a message of the subscription loop: one that matched
// a pattern goes to onPatternMessage when its handler has one.
func (c *Cluster) dispatchSub(channel, pattern string, payload []byte) {
	if pattern == "" {
		c.dispatch(channel, payload)
		return
	}
	c.m.received.Inc()
	c.hmu.RLock()
	h := c.handlers[nsKey(channel)]
	c.hmu.RUnlock()
	switch h := h.(type) {
	case nil:
	case patternHandler:
		h.onPatternMessage(channel, payload)
	default:
		h.onMessage(channel, payload)
	}
}

// subFor returns the subscriber for a channel, starting it when needed.
// Only sharded subscriptions on Redis Cluster use one connection per slot.
func (c *Cluster) subFor(channel string, kind subKind) (*subscriber, error) {
	key := -1
	_, isCluster := c.client.(*redis.ClusterClient)
	if kind == subShard && isCluster {
		key = hashSlot(channel)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if s := c.subs[key]; s != nil {
		return s, nil
	}
	s := newSubscriber(&subscriber{
		newPS: func() *redis.PubSub {
			if kind == subShard {
				return c.client.SSubscribe(context.Background())
			}
			return c.client.Subscribe(context.Background())
		},
		onMsg: c.dispatchSub,
		onUp: func(first bool, down time.Duration) {
			c.upCount.Add(1)
			c.m.connected.Set(1)
			if first {
				c.log.Info("redisadapter: subscribed")
			} else {
				c.log.Info("redisadapter: subscription restored", "down_for", down.String())
			}
			c.readyOnce.Do(func() { close(c.ready) })
		},
		onDown: func(err error) {
			c.upCount.Add(-1)
			c.m.connected.Set(0)
			c.m.reconnects.Inc()
			c.log.Warn("redisadapter: subscription lost, reconnecting", "err", err)
		},
		onRedisErr: func(ctx context.Context, _ error) {
			if cc, ok := c.client.(*redis.ClusterClient); ok {
				cc.ReloadState(ctx)
			}
		},
		minB: c.cfg.MinBackoff,
		maxB: c.cfg.MaxBackoff,
		log:  c.log,
	})
	c.subs[key] = s
	return s, nil
}

// subOp is one queued subscription change.
type subOp struct {
	kind     subKind
	channels []string
	add      bool
}

// subWorker applies subscription changes in order, off the callers'
// goroutines: a socket joining a room must not wait for Redis (which may
// be away).
func (c *Cluster) subWorker() {
	ctx := context.Background()
	for {
		select {
		case op := <-c.subq:
			if op.add {
				_ = c.subscribeNow(ctx, op.kind, op.channels...)
			} else {
				c.unsubscribeNow(ctx, op.kind, op.channels...)
			}
		case <-c.stopSubq:
			return
		}
	}
}

// subscribe queues a subscription; it is kept and restored across
// reconnects even when Redis is unreachable now.
func (c *Cluster) subscribe(_ context.Context, kind subKind, channels ...string) error {
	select {
	case c.subq <- subOp{kind: kind, channels: channels, add: true}:
		return nil
	case <-c.stopSubq:
		return ErrClosed
	}
}

// unsubscribe queues the removal of a subscription.
func (c *Cluster) unsubscribe(_ context.Context, kind subKind, channels ...string) {
	select {
	case c.subq <- subOp{kind: kind, channels: channels}:
	case <-c.stopSubq:
	}
}

func (c *Cluster) subscribeNow(ctx context.Context, kind subKind, channels ...string) error {
	for _, ch := range channels {
		s, err := c.subFor(ch, kind)
		if err != nil {
			return err
		}
		if err := s.add(ctx, kind, ch); err != nil {
			// kept and retried on reconnect; the loop reports the outage
			c.log.Debug("redisadapter: subscribe deferred", "channel", ch, "err", err)
		}
	}
	return nil
}

func (c *Cluster) unsubscribeNow(ctx context.Context, kind subKind, channels ...string) {
	for _, ch := range channels {
		s, err := c.subFor(ch, kind)
		if err != nil {
			return
		}
		_ = s.remove(ctx, kind, ch)
	}
}

func (c *Cluster) publish(channel string, payload []byte) bool {
	return c.pub.enqueue(pubItem{channel: channel, payload: payload, sharded: c.cfg.Mode == ModeSharded})
}

// numSub runs PUBSUB NUMSUB (classic) or SHARDNUMSUB (sharded); on Redis
// Cluster it sums the answers of every master, as Node does, since each
// node counts only its own subscribers.
func (c *Cluster) numSub(ctx context.Context, channel string) (int, error) {
	run := func(ctx context.Context, cl redis.UniversalClient) (int64, error) {
		var res map[string]int64
		var err error
		if c.cfg.Mode == ModeSharded {
			res, err = cl.PubSubShardNumSub(ctx, channel).Result()
		} else {
			res, err = cl.PubSubNumSub(ctx, channel).Result()
		}
		return res[channel], err
	}
	if cc, ok := c.client.(*redis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			v, err := run(ctx, n)
			total.Add(v)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		return int(total.Load()), nil
	}
	v, err := run(ctx, c.client)
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(v), nil
}

// Close stops the subscription loops, publishes what is queued, and closes
// the Redis client when New created it. It is idempotent.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	subs := c.subs
	c.subs = map[int]*subscriber{}
	c.mu.Unlock()
	close(c.stopSubq)
	for _, s := range subs {
		s.close()
	}
	c.pub.close()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// a server-side emit handler is still running; do not hang shutdown
		c.log.Warn("redisadapter: close: handlers still running after 5s")
	}
	if c.ownsClient {
		return c.client.Close()
	}
	return nil
}

// goTracked runs fn on a goroutine that Close waits for.
func (c *Cluster) goTracked(fn func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// randomID returns n random bytes, hex encoded (sharded ids, 16 chars for 8).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const uidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// randomUID returns an n-character id like Node's uid2 (classic uids and
// request ids are 6 characters).
func randomUID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = uidAlphabet[b[i]&63]
	}
	return string(b)
}

// hashSlot is the Redis Cluster key slot of a channel (CRC16/XMODEM of the
// key or of its {hashtag}, mod 16384).
func hashSlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
