// Package cluster holds the multi-process and Node interop tests of the Redis
// adapter: real redis-server, Go replicas (testserver, built on socketio +
// redisadapter), Node replicas (npm socket.io + @socket.io/redis-adapter),
// @socket.io/redis-emitter, and the real socket.io-client, all in separate
// processes on loopback. TestEmitterIntoStreamsHubs runs the hub binary
// itself (service/cmd/hub, default streams mode, recovery on) under the
// emitter. TestSentinelFailover fails over a master watched by three real
// sentinels (killed, or SENTINEL FAILOVER) under Go replicas on a
// redis-sentinel:// URL. The scenario driver is js/driver.js; the Go tests
// start the processes, run the driver and check its verdicts.
//
// Node packages are resolved from <repo>/tests/node/node_modules. When node
// or redis-server is missing the tests skip, unless CI is set.
package cluster
