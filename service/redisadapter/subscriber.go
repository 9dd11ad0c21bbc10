package redisadapter

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// subKind is the kind of a subscription.
type subKind uint8

const (
	subChannel subKind = iota // SUBSCRIBE
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE
)

// idleTimeout is how long the loop waits for a message before it checks the
// connection with a PING.
const idleTimeout = 15 * time.Second

// subscriber runs one supervised subscription connection. go-redis' PubSub
// redials and resubscribes after a broken connection; the loop adds backoff,
// state tracking (logs, metrics, readiness) and a health check that
// replaces a connection that stopped answering PINGs.
type subscriber struct {
	newPS func() *redis.PubSub
	// onMsg receives each message; pattern is the PSUBSCRIBE pattern it
	// matched, "" for a SUBSCRIBE/SSUBSCRIBE channel. A message on a
	// channel that is subscribed and also matches a pattern arrives twice,
	// once each way.
	onMsg  func(channel, pattern string, payload []byte)
	onUp   func(first bool, downFor time.Duration)
	onDown func(err error)
	// onRedisErr is called when Redis answers a subscription with an error
	// (e.g. MOVED on a cluster whose slots moved); the connection is then
	// replaced. Nil means nothing to do besides replacing it.
	onRedisErr func(ctx context.Context, err error)
	minB       time.Duration
	maxB       time.Duration
	log        *slog.Logger

	mu   sync.Mutex
	ps   *redis.PubSub
	subs [3]map[string]struct{}

	connected atomic.Bool
	stop      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
}

func newSubscriber(s *subscriber) *subscriber {
	s.ps = s.newPS()
	for i := range s.subs {
		s.subs[i] = make(map[string]struct{})
	}
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.run()
	return s
}

// add subscribes to channels; the subscription is kept (and restored after
// reconnects) even if Redis is unreachable right now.
func (s *subscriber) add(ctx context.Context, kind subKind, channels ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range channels {
		s.subs[kind][c] = struct{}{}
	}
	return subscribe(ctx, s.ps, kind, channels...)
}

func subscribe(ctx context.Context, ps *redis.PubSub, kind subKind, channels ...string) error {
	if len(channels) == 0 {
		return nil
	}
	switch kind {
	case subPattern:
		return ps.PSubscribe(ctx, channels...)
	case subShard:
		return ps.SSubscribe(ctx, channels...)
	}
	return ps.Subscribe(ctx, channels...)
}

// remove unsubscribes from channels.
func (s *subscriber) remove(ctx context.Context, kind subKind, channels ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range channels {
		delete(s.subs[kind], c)
	}
	if len(channels) == 0 {
		return nil
	}
	switch kind {
	case subPattern:
		return s.ps.PUnsubscribe(ctx, channels...)
	case subShard:
		return s.ps.SUnsubscribe(ctx, channels...)
	}
	return s.ps.Unsubscribe(ctx, channels...)
}

func (s *subscriber) pubsub() *redis.PubSub {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ps
}

// replace closes a connection that stopped answering and opens a new one
// with the same subscriptions.
func (s *subscriber) replace(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop: // closed: close has closed s.ps or will, under mu
		return
	default:
	}
	_ = s.ps.Close()
	s.ps = s.newPS()
	for kind, set := range s.subs {
		chs := make([]string, 0, len(set))
		for c := range set {
			chs = append(chs, c)
		}
		_ = subscribe(ctx, s.ps, subKind(kind), chs...)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *subscriber) run() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.stop
		cancel()
	}()
	defer cancel()
	backoff := s.minB
	everUp := false
	var downSince time.Time
	pingPending := false
	for {
		ps := s.pubsub()
		msg, err := ps.ReceiveTimeout(ctx, idleTimeout)
		select {
		case <-s.stop:
			return
		default:
		}
		if err != nil && isTimeout(err) {
			if pingPending {
				// no PONG within a whole idle period: the connection is dead
				// even though the socket did not say so.
				s.replace(ctx)
				pingPending = false
				err = errors.New("redisadapter: subscription connection unresponsive")
			} else if perr := ps.Ping(ctx); perr == nil {
				pingPending = true
				continue
			} else {
				err = perr
			}
		}
		var rerr redis.Error
		if err != nil && errors.As(err, &rerr) {
			// an error reply (MOVED, ACL, ...): the connection works but the
			// subscription did not take; rebuild it after a backoff.
			s.log.Warn("redisadapter: subscription refused, resubscribing", "err", err)
			if s.onRedisErr != nil {
				s.onRedisErr(ctx, err)
			}
			select {
			case <-s.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.maxB)
			s.replace(ctx)
			continue
		}
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				// replaced concurrently, or closing
				continue
			}
			if s.connected.Swap(false) {
				downSince = time.Now()
				s.onDown(err)
			}
			select {
			case <-s.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.maxB)
			continue
		}
		backoff = s.minB
		switch m := msg.(type) {
		case *redis.Subscription:
			if !s.connected.Swap(true) {
				var down time.Duration
				if everUp {
					down = time.Since(downSince)
				}
				s.onUp(!everUp, down)
				everUp = true
			}
		case *redis.Message:
			s.onMsg(m.Channel, m.Pattern, []byte(m.Payload))
		case *redis.Pong:
			pingPending = false
		}
	}
}

func (s *subscriber) close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.mu.Lock()
		_ = s.ps.Close()
		s.mu.Unlock()
	})
	<-s.done
}
