package redisadapter

import (
	"context"
	"sync"

	"github.com/hubkit/hubkit/service/adapter"
)

// base is what the namespace adapters of every mode share: the local room
// registry, the namespace, request bookkeeping, the set of local rooms (to
// skip messages for rooms this node does not have) and the cluster-wide
// operations written once for every mode (remote.go).
type base struct {
	*adapter.Memory
	c     *Cluster
	nsp   adapter.Namespace
	name  string
	uid   string
	newID func() string // this mode's uids and request ids
	// sendOp sends socketsJoin/socketsLeave/disconnectSockets to the other
	// servers, in this mode's encoding.
	sendOp func(op remoteOp, opts adapter.BroadcastOptions, rooms []string, closeConn bool)
	reqs   requests
	acks   ackRequests

	roomsMu sync.RWMutex
	rooms   map[string]struct{}

	closeOnce sync.Once
}

// modeHooks is what a mode gives base.init.
type modeHooks struct {
	newID              func() string // uids and request ids
	sendOp             func(op remoteOp, opts adapter.BroadcastOptions, rooms []string, closeConn bool)
	onCreate, onDelete func(room string) // optional
}

func (b *base) init(c *Cluster, nsp adapter.Namespace, h modeHooks) error {
	b.c, b.nsp, b.name = c, nsp, nsp.Name()
	b.newID, b.sendOp = h.newID, h.sendOp
	b.uid = b.newID()
	onCreate, onDelete := h.onCreate, h.onDelete
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
