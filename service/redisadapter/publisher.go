package redisadapter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// pubItem is one message waiting to be published.
type pubItem struct {
	channel string
	payload []byte
	sharded bool // SPUBLISH instead of PUBLISH
}

// publisher drains a bounded queue into pipelines: callers never wait for
// Redis, and under load one round trip carries many messages. A single
// worker keeps publishes in the order they were queued.
type publisher struct {
	client   redis.UniversalClient
	queue    chan pubItem
	maxBatch int
	m        *metrics
	log      *slog.Logger

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	errMu      sync.Mutex
	lastErrLog time.Time
}

func newPublisher(client redis.UniversalClient, size, maxBatch int, m *metrics, log *slog.Logger) *publisher {
	p := &publisher{
		client: client, queue: make(chan pubItem, size), maxBatch: maxBatch, m: m, log: log,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go p.run()
	return p
}

// enqueue queues a message; it never blocks. It reports false when the
// queue is full or the publisher stopped.
func (p *publisher) enqueue(it pubItem) bool {
	select {
	case <-p.stop:
		return false
	default:
	}
	select {
	case p.queue <- it:
		return true
	default:
		p.m.publishDropped.Inc()
		p.logErr("publish queue full, message dropped", ErrQueueFull)
		return false
	}
}

// run publishes the queue in pipelined batches until stop, then what is
// still queued (bounded in time).
func (p *publisher) run() {
	defer close(p.done)
	runBatches(p.queue, p.stop, p.maxBatch, p.flush)
}

func (p *publisher) flush(batch []pubItem) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.m.batchSize.Observe(float64(len(batch)))
	var err error
	if len(batch) == 1 {
		it := batch[0]
		if it.sharded {
			err = p.client.SPublish(ctx, it.channel, it.payload).Err()
		} else {
			err = p.client.Publish(ctx, it.channel, it.payload).Err()
		}
	} else {
		_, err = p.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, it := range batch {
				if it.sharded {
					pipe.SPublish(ctx, it.channel, it.payload)
				} else {
					pipe.Publish(ctx, it.channel, it.payload)
				}
			}
			return nil
		})
	}
	if err != nil {
		p.m.publishErrors.Add(float64(len(batch)))
		p.logErr("publish failed", err, "messages", len(batch))
		return
	}
	p.m.published.Add(float64(len(batch)))
}

// logErr logs at most one publish error per second.
func (p *publisher) logErr(msg string, err error, args ...any) {
	p.errMu.Lock()
	now := time.Now()
	if now.Sub(p.lastErrLog) < time.Second {
		p.errMu.Unlock()
		return
	}
	p.lastErrLog = now
	p.errMu.Unlock()
	p.log.Warn("redisadapter: "+msg, append([]any{"err", err}, args...)...)
}

// close stops accepting messages, publishes what is queued (for at most
// about two seconds) and waits for the worker.
func (p *publisher) close() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}
