// Package socketio is a Socket.IO v5 server (the protocol spoken by
// socket.io 3.x/4.x and socket.io-client 4.x) on top of the Engine.IO v4
// server of package engineio.
//
// A Server is an http.Handler (mounted by default at "/socket.io/"). It owns
// namespaces: static ones created with Of, and dynamic ones created on
// demand by a matcher registered with OfMatch or OfRegexp (Node's
// io.of(regexp|func)). Each namespace has middleware run at CONNECT (with the
// client's auth payload kept as raw JSON), connection handlers, rooms kept by
// an adapter.Adapter, and broadcast operators (To/In, Except, Local,
// Volatile, Timeout with collected acknowledgements).
//
// Event arguments are Args: raw JSON (json.RawMessage) or binary ([]byte)
// elements, so that an argument echoed back keeps its exact bytes and key
// order. Args.Decode converts one argument to a Go value. When emitting, any
// value encoding/json accepts may be passed; []byte becomes a binary
// attachment. An acknowledgement callback is passed as the last Emit
// argument: func(Args) without a timeout, func(error, Args) after Timeout.
//
// Connection state recovery (Config.Recovery, Node's
// connectionStateRecovery) gives a client that lost its transport its socket
// id, rooms, data and missed events back when it reconnects in time; it needs
// an adapter implementing adapter.SessionStore (the default in-memory
// adapter does, on one node).
//
// Config.Observer is told about every event packet queued on a connection
// and every server→client acknowledgement that timed out (for metrics,
// without allocating).
//
// Differences from Node: Volatile events are dropped only when the
// connection is already closed (engineio exposes no "transport writable"
// state), and the Compress flag is carried to the adapter but not applied.
//
// Concurrency contract: every exported method is safe for concurrent use.
// Middleware, connection handlers and event handlers of one connection run
// sequentially on that connection's reader goroutine; a handler that blocks
// delays that connection's later packets (start a goroutine for long work).
// Acknowledgement callbacks run on the acknowledging connection's reader
// goroutine, or on a timer goroutine when they time out.
//
// Lock order (never taken the other way round): ParentNamespace.mu →
// Server.mu → Namespace.mu → client.mu; Socket.mu is a leaf. No lock is held
// while calling handlers, middleware, ack callbacks or the adapter.
//
// Resource budget: writes go to the Engine.IO connection's bounded queue (a
// full queue disconnects the client as slow); pending server→client
// acknowledgements are bounded per socket (Config.MaxPendingAcks); binary
// attachments are bounded in count (Config.MaxAttachments) and size (the
// Engine.IO maxPayload).
package socketio
