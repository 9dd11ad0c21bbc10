package redisadapter

import (
	"context"
	"sync"

	"github.com/hubkit/hubkit/service/adapter"
)

// base is what the classic and sharded namespace adapters share: the local
// room registry, the namespace, request bookkeeping and the set of local
// rooms (to skip messages for rooms this node does not have).
type base struct {
	*adapter.Memory
	c    *Cluster
	nsp  adapter.Namespace
	name string
	uid  string
	reqs requests
	acks ackRequests

	roomsMu sync.RWMutex
	rooms   map[string]struct{}

	closeOnce sync.Once
}

func (b *base) init(c *Cluster, nsp adapter.Namespace, uid string, onCreate, onDelete func(string)) error {
	b.c, b.nsp, b.name, b.uid = c, nsp, nsp.Name(), uid
	b.rooms = map[string]struct{}{}
	mem, err := adapter.NewMemory(adapter.MemoryConfig{
		Namespace: nsp,
		OnCreateRoom: func(r string) {
			b.roomsMu.Lock()
			b.rooms[r] = struct{}{}
			b.roomsMu.Unlock()
			if onCreate != nil {
				onCreate(r)
			}
		},
		OnDeleteRoom: func(r string) {
			b.roomsMu.Lock()
			delete(b.rooms, r)
			b.roomsMu.Unlock()
			if onDelete != nil {
				onDelete(r)
			}
		},
	})
	if err != nil {
		return err
	}
	b.Memory = mem
	return nil
}

// hasRoom reports whether a local socket is in room.
func (b *base) hasRoom(room string) bool {
	b.roomsMu.RLock()
	_, ok := b.rooms[room]
	b.roomsMu.RUnlock()
	return ok
}

// isSocketID reports whether room is the private room of a local socket.
func (b *base) isSocketID(room string) bool { return b.Memory.SocketRooms(room) != nil }

// serverSideEmitLocal hands a remote serverSideEmit to the namespace on its
// own goroutine (user handlers may block). ack is nil without ack.
func (b *base) serverSideEmitLocal(args []any, ack adapter.AckFunc) {
	b.c.goTracked(func() { b.nsp.OnServerSideEmit(args, ack) })
}

// once wraps an AckFunc so that only its first call counts (Node: "only one
// argument is expected").
func once(fn func(args []any)) adapter.AckFunc {
	var o sync.Once
	return func(args []any) { o.Do(func() { fn(args) }) }
}

// bg is the context for local work triggered by remote messages.
var bg = context.Background()
