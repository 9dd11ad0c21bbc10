// Package hub is the hubkit application: the generic realtime service a team
// points its existing socket.io-client apps and backends at. It owns the
// client contract on namespace "/", the HTTP publish API, JWT auth at
// CONNECT, the origin allowlist, health, Prometheus metrics, configuration
// from the environment, and the staggered drain on shutdown. The protocol
// lives in service/socketio and service/engineio; clustering in the adapter
// (service/adapter in memory, service/redisadapter through Redis).
//
// # Client contract (namespace "/")
//
//	join(room, ack)                   → ack({ok:true}) | ack({error:"..."})
//	leave(room, ack)                  → ack({ok:true})
//	publish(room, event, ...payload, ack?)
//	                                  → event(...payload) to every socket in room
//	                                    on every replica except the publisher;
//	                                    ack({ok:true}) | ack({error:"..."})
//
// With connection state recovery on (HUB_RECOVERY_WINDOW > 0, the default)
// every delivered event carries one more, trailing string argument, its
// offset, exactly as Node's socket.io does: socket.io-client uses it to
// recover, handlers may ignore it. A client that loses its transport and
// comes back within the window keeps its socket id and rooms and receives
// what it missed; its token is verified again. Across replicas this needs
// HUB_REDIS_MODE=streams (sessions and the event log live in Redis); the
// in-memory adapter recovers on the same node only, and the Redis classic
// and sharded modes do not recover.
//
// Socket-id rooms are private. Every socket is alone in the room named
// after its id: that is where a backend sends it a private message
// (Node's io.to(socket.id), the publish API or @socket.io/redis-emitter
// with room = the socket id). A client can neither join nor publish to
// such a room, in open mode and under any wildcard grant alike:
//
//   - the id of a socket connected to this replica (its own included) is
//     always refused;
//   - a name shaped like a socket id — exactly 20 characters of A-Z a-z
//     0-9 - _, which is how both the hub and Node's socket.io make ids — is
//     refused unless the token's join (resp. publish) claim names it
//     exactly; no wildcard ("*", "prefix*") grants it. This covers the
//     sockets of the other replicas, Go or Node, and disconnected sockets
//     that connection state recovery may bring back.
//
// The refusal is {error:"not allowed to join room <r>: it is or looks like
// a socket id ..."} (hub_errors_total reason join_socket_room or
// publish_socket_room), worded the same whether or not a socket with that
// id exists. Name application rooms with a separator ("chat:42",
// "user.42") and they never collide. Backends (the publish API, the
// emitter) may target socket ids freely.
//
// A call that fails without an ack callback is answered with the event
// "hub:error" {op, error}: no failure is silent. Room and event names are
// non-empty strings of at most 256 bytes; Socket.IO's reserved event names
// and names starting with "hub:" cannot be published; a socket joins at most
// 1000 rooms.
//
// # Auth
//
// With HUB_JWT_SECRET (HS256) and/or HUB_JWT_PUBLIC_KEY (PEM; RSA → RS256/
// RS384/RS512, ECDSA P-256/384/521 → ES256/384/512, Ed25519 → EdDSA) every
// CONNECT must carry auth {token: "<jwt>"}. "exp" is required; claims:
//
//	{"sub": "user-42", "exp": 1767225600,
//	 "join":    ["chat:*", "user:42"],   // rooms the socket may join
//	 "publish": ["chat:*"]}              // rooms it may publish to
//
// An entry ending in "*" is a prefix wildcard, "*" alone allows every room.
// A refused CONNECT gets connect_error with message "unauthorized: token
// expired", "unauthorized: invalid token: <reason>" or "unauthorized: missing
// token ...", and data {code: "token_expired"|"token_invalid"|"token_missing"}.
// When the token of a connected socket expires (5s leeway), the socket gets
// "hub:error" {op:"auth", error:"unauthorized: token expired"} and a
// Socket.IO DISCONNECT; the app reconnects with a fresh token. Without a key
// every socket may join and publish anywhere (development only:
// HUB_ENV=production refuses to start).
//
// # HTTP
//
//	GET  /healthz          200 {"status":"ok"} while the process runs
//	GET  /readyz           200 {"status":"ready"}; 503 while starting, while the
//	                       Redis subscription is unconfirmed, and while draining
//	GET  /metrics          Prometheus text format (own registry)
//	POST /api/v1/publish   Authorization: Bearer <HUB_API_KEY>
//	                       Content-Type: application/json
//	                       {"room": "...", "event": "...", "data": <any JSON, optional>}
//	                       202 {"ok":true}; 401 bad key, 400 bad body, 405 not POST,
//	                       413 body > HUB_MAX_PAYLOAD, 415 not JSON, 503 API disabled
//	                       (no HUB_API_KEY) or publish failed; errors are
//	                       {"error":"<what is wrong>"}
//	     /socket.io/       Socket.IO v4 (Engine.IO v4: polling and websocket)
//
// A request whose Origin is not in HUB_ALLOWED_ORIGINS gets 403
// {"error":"origin not allowed: ..."}; requests without Origin (backends,
// non-browser clients) pass.
//
// # Configuration (environment)
//
//	HUB_ADDR             listen address                          ":3000"
//	REDIS_URL            redis://, rediss://, redis-sentinel://  unset = in-memory, single node
//	HUB_ENV              development | production (JSON logs;    development
//	                     requires REDIS_URL and a JWT key)
//	HUB_REDIS_MODE       streams (recovery across replicas) |    streams
//	                     classic | sharded (Node redis-adapter)
//	HUB_RECOVERY_WINDOW  connection state recovery window, 0=off 2m
//	HUB_REPLICA_ID       replica name: X-Hub-Replica header on   unset
//	                     /socket.io/ responses, "replica" in logs
//	HUB_API_KEY          bearer key of POST /api/v1/publish       unset = API disabled
//	HUB_JWT_SECRET       HS256 shared secret (production: ≥32 B) unset
//	HUB_JWT_PUBLIC_KEY   PEM public key (RSA, ECDSA, Ed25519)    unset
//	HUB_ALLOWED_ORIGINS  comma-separated origins, or *           unset = any origin
//	HUB_DRAIN_WINDOW     SIGTERM drain bound                     20s
//	HUB_PING_INTERVAL    Engine.IO ping interval                 25s
//	HUB_PING_TIMEOUT     Engine.IO ping timeout                  20s
//	HUB_MAX_PAYLOAD      max Engine.IO payload / API body, bytes 1000000
//	HUB_WRITE_QUEUE      per-connection write queue, packets     1024
//	HUB_CLIENT_RATE      join/leave/publish events per second    unset = no limit
//	                     per connection; over it: "rate limited"
//	HUB_CLIENT_BURST     events at once above HUB_CLIENT_RATE    2 × rate
//	HUB_LOG_LEVEL        debug | info | warn | error             info
//
// Every bad value is reported at start, all together, one line per key.
//
// # Metrics
//
//	hub_connections{transport}            open Engine.IO sessions (polling, websocket)
//	hub_rooms                             rooms with a local member (joined via the contract)
//	hub_messages_in_total{source}         accepted publishes (client, api)
//	hub_messages_out_total                event packets queued on local client connections
//	                                      (every target of every broadcast, local or from
//	                                      another replica, and direct emits)
//	hub_acks_timed_out_total              server→client acks that timed out: the hub's
//	                                      contract asks for none, but a broadcast with
//	                                      acks (a Node replica's io.timeout(t).emit)
//	                                      reaches local sockets; one per silent socket
//	hub_slow_consumer_disconnects_total   connections closed because their write queue was full
//	hub_errors_total{reason}              refusals and failures (auth_token_expired,
//	                                      origin_refused, join_forbidden, api_unauthorized,
//	                                      rate_limited, ...)
//	hub_ready                             1 while accepting clients
//
// plus the Go runtime, process and (with REDIS_URL) Redis adapter collectors.
//
// # Drain
//
// When Serve's context ends (SIGTERM): /readyz turns 503 and new Engine.IO
// handshakes get 503 at once; after ReadinessGrace (DrainWindow/10, at most
// 2s) the listener closes; then the open TCP connections are closed in evenly
// spaced batches until 80% of the window (closing the transport, not sending
// a Socket.IO DISCONNECT, so socket.io-client reconnects by itself — to
// another replica); remaining HTTP requests are cut at 90%; the Socket.IO
// server and then the adapter (Redis) close last; Serve returns nil and the
// process exits 0 within the window.
//
// # Concurrency
//
// Every exported method is safe for concurrent use. Contract calls of one
// socket run on that socket's reader goroutine (socketio's contract); the
// contract's room count is guarded by one mutex, per-socket state by the
// socket's own (lock order: session, then contract). No goroutine is started
// per connection by this package; Serve runs the HTTP server and, while
// draining, one Shutdown goroutine.
package hub
