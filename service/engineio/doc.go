// Package engineio implements an Engine.IO v4 server: the handshake, the
// HTTP long-polling and WebSocket transports, the polling → websocket upgrade,
// server-driven heartbeats, payload framing and limits.
//
// A Server is an http.Handler. For every new session it calls
// Config.OnConnection, which returns the ConnHandler that receives that
// session's messages. Messages are delivered to a ConnHandler sequentially, in
// arrival order, never concurrently; OnClose is called exactly once, after the
// last OnMessage.
//
// Concurrency contract: every exported method of Server and Conn is safe for
// concurrent use. Conn.Send never blocks: it appends to the session's bounded
// write queue; when the queue is full the session is closed with
// ReasonSlowConsumer. A Message's Data passed to Send must not be modified
// afterwards (the same bytes may be queued on many sessions).
//
// Resource budget: an idle websocket session holds one goroutine (its reader);
// a writer goroutine runs only while the queue is non-empty, and heartbeats
// use timers rather than goroutines.
package engineio
