package socketio

import (
	"context"
	"sync"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// BroadcastOperator selects sockets of a namespace (Node's
// BroadcastOperator). Each modifier returns a new operator; an operator is
// immutable and safe for concurrent use.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  adapter.BroadcastFlags
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = append([]string(nil), b.rooms...)
	c.except = append([]string(nil), b.except...)
	return &c
}

// To adds target rooms.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = appendUnique(c.rooms, rooms)
	return c
}

// In is an alias of To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.except = appendUnique(c.except, rooms)
	return c
}

// Local restricts the operation to this node.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.flags.Local = true
	return c
}

// Volatile marks events as droppable.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.flags.Volatile = true
	return c
}

// Compress sets Node's compress flag.
func (b *BroadcastOperator) Compress(v bool) *BroadcastOperator {
	c := b.clone()
	c.flags.Compress = &v
	return c
}

// Timeout sets how long acknowledgements are collected.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.flags.Timeout = d
	return c
}

// Options returns the adapter options of this operator.
func (b *BroadcastOperator) Options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

func appendUnique(dst, add []string) []string {
	for _, r := range add {
		dup := false
		for _, e := range dst {
			if e == r {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, r)
		}
	}
	return dst
}

// BroadcastAckCallback receives the acknowledgements of a broadcast: err
// is ErrAckTimeout when some clients did not answer within Timeout.
type BroadcastAckCallback func(err error, responses []Args)

// Emit broadcasts an event. When the last argument is a
// func(error, []Args) (requires Timeout) it receives every client's
// acknowledgement once all arrived, or the ones collected at the timeout.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	if len(args) > 0 {
		var cb func(error, []Args)
		switch f := args[len(args)-1].(type) {
		case func(error, []Args):
			cb = f
		case BroadcastAckCallback:
			cb = f
		}
		if cb != nil {
			return b.emitWithAck(event, args[:len(args)-1], cb)
		}
	}
	p := &parser.Packet{Type: parser.Event, Args: prepend(event, args)}
	return b.nsp.adapter.Broadcast(context.Background(), p, b.Options())
}

func (b *BroadcastOperator) emitWithAck(event string, args []any, cb func(error, []Args)) error {
	if b.flags.Timeout <= 0 {
		return ErrBroadcastAckNeedsTimeout
	}
	var (
		mu             sync.Mutex
		done           bool
		responses      []Args
		expectedSrv    = -1
		actualSrv      int
		expectedClient int
	)
	finish := func(err error) {
		// mu held
		done = true
		out := responses
		go cb(err, out)
	}
	timer := time.AfterFunc(b.flags.Timeout, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			finish(ErrAckTimeout)
		}
	})
	check := func() {
		if !done && expectedSrv == actualSrv && len(responses) == expectedClient {
			timer.Stop()
			finish(nil)
		}
	}
	p := &parser.Packet{Type: parser.Event, Args: prepend(event, args)}
	ctx, cancel := context.WithTimeout(context.Background(), b.flags.Timeout)
	defer cancel()
	err := b.nsp.adapter.BroadcastWithAck(ctx, p, b.Options(), func(n int) {
		mu.Lock()
		defer mu.Unlock()
		expectedClient += n
		actualSrv++
		check()
	}, func(a []any) {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		responses = append(responses, Args(a))
		check()
	})
	if err != nil {
		timer.Stop()
		return err
	}
	n, err := b.nsp.adapter.ServerCount(ctx)
	if err != nil {
		n = 1
	}
	if b.flags.Local {
		n = 1
	}
	mu.Lock()
	expectedSrv = n
	check()
	mu.Unlock()
	return nil
}

// FetchSockets returns the selected sockets.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]adapter.SocketInfo, error) {
	return b.nsp.adapter.FetchSockets(ctx, b.Options())
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.AddSockets(ctx, b.Options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.DelSockets(ctx, b.Options(), rooms)
}

// DisconnectSockets disconnects the selected sockets.
func (b *BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return b.nsp.adapter.DisconnectSockets(ctx, b.Options(), close)
}
