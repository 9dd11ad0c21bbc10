package redisadapter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
)

// pending collects the answers to one request sent to the other servers.
type pending struct {
	mu        sync.Mutex
	expected  int
	got       int
	sockets   []adapter.SocketInfo
	rooms     []string
	responses [][]any
	done      chan struct{}
	finished  bool
}

// record applies fn under the lock and counts one answer.
func (p *pending) record(fn func(p *pending)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	if fn != nil {
		fn(p)
	}
	p.got++
	if p.got >= p.expected {
		p.finished = true
		close(p.done)
	}
}

// requests tracks pending requests by id.
type requests struct {
	mu sync.Mutex
	m  map[string]*pending
}

func (r *requests) start(id string, expected int) *pending {
	p := &pending{expected: expected, done: make(chan struct{})}
	r.mu.Lock()
	if r.m == nil {
		r.m = map[string]*pending{}
	}
	r.m[id] = p
	r.mu.Unlock()
	return p
}

func (r *requests) get(id string) *pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

func (r *requests) end(id string) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// wait blocks until every answer arrived, the timeout passed or ctx ended.
// It returns ErrTimeout (wrapped with the counts) on timeout.
func (r *requests) wait(ctx context.Context, id string, p *pending, timeout time.Duration, m *metrics) error {
	defer r.end(id)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	m.requestTimeout.Inc()
	p.mu.Lock()
	p.finished = true
	got, want := p.got, p.expected
	p.mu.Unlock()
	return fmt.Errorf("%w: only %d responses received out of %d", ErrTimeout, got, want)
}

// ackRequest routes the answers to a broadcast with acknowledgements that
// this node sent.
type ackRequest struct {
	clientCount func(int)
	ack         adapter.AckFunc
}

// ackRequests keeps ack routes until the broadcast's timeout, as Node does.
type ackRequests struct {
	mu sync.Mutex
	m  map[string]*ackRequest
}

func (a *ackRequests) add(id string, r *ackRequest, ttl time.Duration) {
	a.mu.Lock()
	if a.m == nil {
		a.m = map[string]*ackRequest{}
	}
	a.m[id] = r
	a.mu.Unlock()
	time.AfterFunc(ttl, func() {
		a.mu.Lock()
		delete(a.m, id)
		a.mu.Unlock()
	})
}

func (a *ackRequests) get(id string) *ackRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[id]
}
