// Package adapter declares the Adapter the socketio layer uses to keep track
// of rooms and to deliver broadcasts, and implements it in memory for a
// single node.
//
// The shapes mirror Node's socket.io-adapter so that a Redis adapter
// (service/redisadapter, wire-compatible with @socket.io/redis-adapter) can
// embed *Memory for the local part and add publish/subscribe and
// request/response on top: BroadcastOptions maps one-to-one onto Node's
// {rooms:[],except:[],flags:{}} object.
//
// An adapter reaches the local sockets of its namespace through the small
// Namespace and Socket interfaces declared here, which the socketio package
// implements. Broadcast packets are encoded once and the same frames are
// written to every target socket.
//
// Memory also implements SessionStore (connection state recovery) when
// created with a RecoveryConfig window: broadcast events get an offset and
// are kept in a bounded log, disconnected sessions are kept for the window.
//
// Concurrency: every method of Memory is safe for concurrent use. Locks are
// never held while calling into a Namespace or Socket, nor while calling
// the room hooks. Lock order (see memory.go): a socket shard lock may be
// held while taking a room shard lock, never the reverse, and at most one
// lock of each kind is held at a time.
package adapter
