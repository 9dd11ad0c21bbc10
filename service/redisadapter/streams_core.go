package redisadapter

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/service/redisadapter/wire"
)

// Streams mode settings (the values of @socket.io/redis-streams-adapter
// 0.3.1 where it has one).
const (
	// StreamMaxLen is the approximate stream length kept (XADD MAXLEN ~)
	// when recovery is off, as Node's adapter does. With a recovery window
	// the stream is trimmed by age instead (XADD MINID ~), so that an
	// offset stays in the stream for the whole window whatever the rate.
	StreamMaxLen = 10000
	// trimMargin is kept beyond the recovery window.
	trimMargin = time.Second
	// streamReadCount bounds the entries one XREAD returns.
	streamReadCount = 512
	// streamBlock is how long one XREAD waits for new entries; it also
	// bounds how long Close waits for the reader.
	streamBlock = 500 * time.Millisecond
	// streamQueue bounds the entries and session writes waiting for Redis.
	streamQueue = 16384
	// restoreMaxCalls bounds the XRANGE calls of one session restore
	// (Node: RESTORE_SESSION_MAX_XRANGE_CALLS).
	restoreMaxCalls = 100
	// restoreCount is the COUNT of each of those XRANGE calls.
	restoreCount = 1000
)

// streamsCore is the part of ModeStreams shared by the namespaces of one
// Cluster: a writer that appends entries to the stream in the order they
// were queued (pipelined XADD, one goroutine) and writes sessions, and a
// reader that follows the stream (XREAD BLOCK, supervised, resuming from
// the last entry it handled) and hands each entry to its namespace.
type streamsCore struct {
	c      *Cluster
	stream string

	queue chan streamOp

	mu   sync.RWMutex
	nsps map[string]*streamsAdapter

	lastID string        // reader position; reader goroutine only
	lastMs atomic.Uint64 // time part of the last entry read (Redis clock)
	// pos is the id of the last entry the reader dispatched (nil before
	// the first, unless the stream had entries at start); stored under
	// mu.RLock with the namespace lookup, so that add knows which entries
	// went by without the namespace it adds.
	pos     atomic.Pointer[string]
	up      atomic.Bool
	stopped chan struct{} // closed when both goroutines returned
}

// streamOp is one write: an XADD (fields set), a session SET (key, value,
// ttl) or a DEL (key, del).
type streamOp struct {
	fields []string
	onErr  func() // XADD failed or was dropped

	key   string
	value func() (string, bool) // computed on the writer goroutine; false = skip
	ttl   time.Duration
	del   bool
}

// streams returns the Cluster's streams core, starting it on first use.
func (c *Cluster) streamsCore() (*streamsCore, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.streams != nil {
		return c.streams, nil
	}
	s := &streamsCore{c: c, stream: c.cfg.Prefix, queue: make(chan streamOp, streamQueue),
		nsps: map[string]*streamsAdapter{}, stopped: make(chan struct{})}
	// Start from the current end of the stream, resolved now, so that no
	// entry appended after New is missed (Node starts from "$" on its first
	// XREAD, which races with its first XADD).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.lastID = "$"
	if last, err := c.client.XRevRangeN(ctx, s.stream, "+", "-", 1).Result(); err == nil {
		s.lastID = "0-0"
		s.up.Store(true)
		if len(last) == 1 {
			s.lastID = last[0].ID
			if id, ok := parseStreamID(s.lastID); ok {
				s.lastMs.Store(id.ms)
			}
		}
	} else {
		c.log.Warn("redisadapter: streams: cannot read the stream's last id, following new entries only", "err", err)
	}
	if start := s.lastID; start != "$" && start != "0-0" {
		s.pos.Store(&start) // a copy: the reader moves lastID
	}
	c.streams = s
	var wg sync.WaitGroup
	wg.Add(2)
	c.goTracked(func() { defer wg.Done(); s.readLoop() })
	c.goTracked(func() { defer wg.Done(); s.writeLoop() })
	c.goTracked(func() { wg.Wait(); close(s.stopped) })
	return s, nil
}

// add makes the reader hand a's entries to a. It returns the id of the
// last entry dispatched before ("" when none is known): every entry up to
// it went by without a.
func (s *streamsCore) add(a *streamsAdapter) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nsps[a.name] = a
	if p := s.pos.Load(); p != nil {
		return *p
	}
	return ""
}

func (s *streamsCore) remove(a *streamsAdapter) {
	s.mu.Lock()
	if s.nsps[a.name] == a {
		delete(s.nsps, a.name)
	}
	s.mu.Unlock()
}

// enqueue queues a write without blocking; false when the queue is full
// or the Cluster is closing.
func (s *streamsCore) enqueue(op streamOp) bool {
	select {
	case <-s.c.stopSubq:
		return false
	default:
	}
	select {
	case s.queue <- op:
		return true
	default:
		s.c.m.publishDropped.Inc()
		return false
	}
}

// readLoop follows the stream until the Cluster closes.
func (s *streamsCore) readLoop() {
	backoff := s.c.cfg.MinBackoff
	var downSince time.Time
	for {
		select {
		case <-s.c.stopSubq:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), streamBlock+5*time.Second)
		res, err := s.c.client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.stream, s.lastID}, Count: streamReadCount, Block: streamBlock,
		}).Result()
		cancel()
		if err != nil && !errors.Is(err, redis.Nil) {
			if s.up.Swap(false) || downSince.IsZero() {
				downSince = time.Now()
				s.c.m.reconnects.Inc()
				s.c.log.Warn("redisadapter: streams: reading the stream failed, retrying", "err", err, "from", s.lastID)
			}
			select {
			case <-s.c.stopSubq:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.c.cfg.MaxBackoff)
			continue
		}
		backoff = s.c.cfg.MinBackoff
		if !s.up.Swap(true) && !downSince.IsZero() {
			s.c.log.Info("redisadapter: streams: reading again", "down_for", time.Since(downSince).String(), "from", s.lastID)
		}
		for _, st := range res {
			for _, m := range st.Messages {
				s.dispatch(m)
				s.lastID = m.ID
				if id, ok := parseStreamID(m.ID); ok {
					s.lastMs.Store(id.ms)
				}
			}
		}
	}
}

// dispatch decodes one entry and hands it to its namespace's adapter.
func (s *streamsCore) dispatch(m redis.XMessage) {
	s.c.m.received.Inc()
	fields := make(map[string]string, len(m.Values))
	for k, v := range m.Values {
		if str, ok := v.(string); ok {
			fields[k] = str
		}
	}
	s.mu.RLock()
	id := m.ID
	s.pos.Store(&id)
	a := s.nsps[fields["nsp"]]
	s.mu.RUnlock()
	if a == nil || fields["nsp"] == "" {
		return // Node skips entries without nsp too
	}
	e, err := wire.DecodeStreamEntry(fields)
	if err != nil {
		s.c.m.malformed.Inc()
		s.c.log.Debug("redisadapter: streams: ignoring malformed entry", "id", m.ID, "err", err)
		return
	}
	a.onEntry(m.ID, e)
}

// writeLoop drains the queue into pipelines until the Cluster closes, then
// writes what is queued (for at most about two seconds).
func (s *streamsCore) writeLoop() {
	runBatches(s.queue, s.c.stopSubq, s.c.cfg.MaxBatch, s.flush)
}

func (s *streamsCore) flush(batch []streamOp) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.c.m.batchSize.Observe(float64(len(batch)))
	pipe := s.c.client.Pipeline()
	cmds := make([]redis.Cmder, len(batch))
	trim := s.trimArgs()
	for i, op := range batch {
		switch {
		case op.fields != nil:
			args := trim
			args.Values = op.fields
			cmds[i] = pipe.XAdd(ctx, &args)
		case op.del:
			cmds[i] = pipe.Del(ctx, op.key)
		default:
			if v, ok := op.value(); ok {
				cmds[i] = pipe.Set(ctx, op.key, v, op.ttl)
			}
		}
	}
	_, _ = pipe.Exec(ctx)
	failed := 0
	var firstErr error
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		if err := cmd.Err(); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			if batch[i].onErr != nil {
				batch[i].onErr()
			}
		}
	}
	if failed > 0 {
		s.c.m.publishErrors.Add(float64(failed))
		s.c.pub.logErr("streams: write failed", firstErr, "ops", failed)
	}
	s.c.m.published.Add(float64(len(batch) - failed))
}

// trimArgs returns the XADD arguments without values: with recovery on,
// trimmed by age (MINID ~ last id read − window − margin, on the Redis
// clock, so replica clocks do not matter; no trimming until an id is
// known), else MAXLEN ~ 10000 like Node. Redis then holds about
// rate × window entries.
func (s *streamsCore) trimArgs() redis.XAddArgs {
	args := redis.XAddArgs{Stream: s.stream, Approx: true, ID: "*"}
	if s.c.cfg.RecoveryWindow <= 0 {
		args.MaxLen = StreamMaxLen
		return args
	}
	w := uint64((s.c.cfg.RecoveryWindow + trimMargin).Milliseconds())
	if last := s.lastMs.Load(); last > w {
		args.MinID = strconv.FormatUint(last-w, 10) + "-0"
	}
	return args
}

// streamID is a parsed stream entry id, ordered like Redis orders them.
type streamID struct{ ms, seq uint64 }

func parseStreamID(id string) (streamID, bool) {
	a, b, ok := strings.Cut(id, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return streamID{ms, seq}, err1 == nil && err2 == nil
}

func (x streamID) less(y streamID) bool {
	return x.ms < y.ms || x.ms == y.ms && x.seq < y.seq
}

func (x streamID) String() string {
	return strconv.FormatUint(x.ms, 10) + "-" + strconv.FormatUint(x.seq, 10)
}
