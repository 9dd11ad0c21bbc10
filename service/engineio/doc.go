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
// Resource budget: an idle websocket session holds one goroutine (its
// reader, started by the Server: the request's goroutine returns after the
// hijack, so net/http's buffers and the handshake's stack are freed), a
// 256-byte read buffer and a 256-byte buffer for control frames; heartbeats
// use timers rather than goroutines.
//
// # Websocket write path
//
// coder/websocket does the handshake, reads, and writes control frames
// (pong, close). Data frames are encoded by this package into a per-session
// pending buffer (taken from a pool while non-empty) and sent with as few
// write(2) calls as the socket allows:
//
//   - Send on an open session whose writer is idle tries the socket at once,
//     from the caller's goroutine, without waiting: when the hijacked
//     connection implements syscall.Conn (a *net.TCPConn, or a wrapper that
//     exposes its socket) the frames are written with a non-blocking write on
//     the descriptor. Whatever the socket does not take is left to a writer
//     goroutine. Send still never blocks.
//   - Otherwise (queue non-empty, socket full, TLS) the writer goroutine
//     encodes the whole queue and writes it in one flush; every write that
//     waits for the socket carries a deadline of Config.WriteTimeout.
//
// # Additions to the issue #2 API
//
//   - Config.WriteQueueBytes (default 16 MiB): the write queue is also bounded
//     in bytes of message data; exceeding it is a slow consumer too.
//   - Config.WriteTimeout (default 10s): deadline of each websocket write and
//     of a polling response write.
//   - Server.Shutdown(ctx): Close, then wait for every session to end and every
//     goroutine the server started to return (forcing the rest at ctx's end).
//   - ErrorCode with CodeUnknownTransport … CodeUnsupportedProtocol and its
//     Message/Status (the table in codes.go); TransportPolling,
//     TransportWebSocket; the Default* constants.
//
// # Behaviour worth knowing
//
//   - Closes by the server (Conn.Close, CloseWithReason, Server.Close) are
//     graceful: Send is refused from then on, what is queued is flushed, then a
//     polling client gets a close packet ("1") in its next poll and a
//     websocket is closed (1000, or 1001 when shutting down). A client that
//     does not collect within PingTimeout is dropped with the same reason.
//     Ping timeouts, slow consumers, parse and transport errors close at once
//     and discard the queue.
//   - Errors on plain requests are JSON {"code","message"} (400; 403 for
//     code 4; 503 with code 3 once the server is closed). On websocket upgrade
//     requests the body is the bare message as text/html, as Node's
//     abortUpgrade writes it.
//   - A POST whose packets make the session fail (parse error, client ping)
//     is answered 400 (Node destroys the request instead); a POST of "1" is
//     answered "ok" and a held poll gets "6".
//   - A polling response carries at most MaxPayload bytes of packets (at
//     least one packet); the rest goes in the next poll.
//   - Where this package is stricter than Node engine.io 6.6: a "1" received
//     over websocket closes the session (Node ignores it); upgrade attempts
//     are refused when DisableUpgrades is set (Node still accepts them); a
//     disallowed Origin is refused on every request, not only on handshakes;
//     invalid base64 in a "b" packet is a parse error (Node decodes
//     leniently); a websocket handshake with EIO≠4 is refused with a plain
//     400 before the upgrade (Node upgrades, then writes the 400 into the
//     stream); websocket closes by the server carry a status (1000, 1001
//     when shutting down, 1002 for parse/protocol errors) where Node's ws
//     sends none, and a slow consumer's connection is cut without a close
//     handshake (it does not read; the handshake would only wait).
//   - TestDifferentialAgainstNode runs the same client scenarios against the
//     real Node engine.io server (tests/node/node_modules) and this package
//     and requires identical observations.
package engineio
