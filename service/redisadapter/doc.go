// Package redisadapter clusters socketio namespaces through Redis, wire
// compatible with Node's @socket.io/redis-adapter 8.x so that Go and Node
// replicas can share one cluster, and @socket.io/redis-emitter can publish
// into it.
//
// Three modes are supported (Config.Mode, HUB_REDIS_MODE):
//
//   - ModeClassic: createAdapter's protocol — PUBLISH/PSUBSCRIBE, msgpack
//     [uid, packet, opts] broadcasts and the request/response protocol on
//     "socket.io-request#<nsp>#" / "socket.io-response#<nsp>#".
//   - ModeSharded: createShardedAdapter's protocol in its default "dynamic"
//     subscription mode — SPUBLISH/SSUBSCRIBE (Redis 7+, Redis Cluster),
//     JSON {type,data,uid,nsp} messages, one channel per public room.
//   - ModeStreams: @socket.io/redis-streams-adapter 0.3.1's protocol — a
//     Redis stream (XADD/XREAD, entry ids as offsets) plus pub/sub for
//     ephemeral messages, with connection state recovery across replicas
//     (sessions in sio:session:<pid>, Config.RecoveryWindow). See streams.go
//     for the protocol and where it differs from Node.
//
// @socket.io/redis-emitter publishes into ModeClassic (its own protocol)
// and ModeStreams: there every replica also listens to the emitter's
// classic channels and applies its broadcasts and requests to its local
// sockets (streams_emitter.go; emitter events are not in the stream, so
// not replayed on recovery). Not into ModeSharded: its SSUBSCRIBE channels
// do not get the emitter's PUBLISH.
//
// A Cluster owns the Redis connections: one supervised subscription loop
// (reconnect with backoff, automatic resubscribe, state in logs and
// metrics) and one batching publisher (a bounded queue drained into
// pipelines, so callers never wait for a Redis round trip). Cluster.Factory
// returns the adapter.Factory the socketio server calls per namespace; each
// namespace adapter embeds adapter.Memory for its local rooms. Byte-level
// encoding lives in the wire subpackage. No go-redis type crosses into the
// socketio or adapter packages.
//
// While Redis is unreachable local delivery continues, publishes are
// dropped (counted in metrics), and cross-replica delivery resumes by
// itself once the subscription is re-established. Ready reports true once
// the first subscription was confirmed and stays true through later Redis
// outages, so a Redis blink does not take every replica out of service;
// Connected reports the live state. With a sentinel REDIS_URL the Cluster
// also follows +switch-master on the sentinels and moves its subscription
// connections to the new master (go-redis moves only its pooled
// connections; see sentinel.go).
//
// Wiring (as service/cmd/hub does it):
//
//	mode, err := redisadapter.ParseMode(os.Getenv("HUB_REDIS_MODE"))
//	cl, err := redisadapter.New(ctx, redisadapter.Config{
//		URL: os.Getenv("REDIS_URL"), Mode: mode, Logger: log, Registerer: registry,
//	})
//	io, err := socketio.New(socketio.Config{Adapter: cl.Factory()})
//	// readiness: cl.Ready; on shutdown: io.Close(), then cl.Close() last.
//
// Code layout: what the three modes do alike is written once. base (base.go,
// remote.go) holds the local rooms, request bookkeeping and the
// cluster-wide operations (socketsJoin & co, fetchSockets,
// serverSideEmitWithAck, broadcasts with acks); msgAdapter (msgadapter.go)
// adds the ClusterMessage handling the sharded and streams modes share. Each
// mode's file keeps only its channels, its encoding and how it sends.
//
// Cluster-wide operations beyond the adapter.Adapter interface: the classic
// namespace adapter also has AllRooms(ctx) (Node's adapter.allRooms()),
// reachable by type assertion.
//
// Concurrency: every exported method is safe for concurrent use. Messages
// from Redis are handled in order on the subscription goroutine, except
// server-side emits, which run user handlers on their own goroutines.
package redisadapter
