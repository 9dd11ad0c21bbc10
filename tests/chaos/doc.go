// Package chaos disrupts the production topology (real redis-server, three
// real hub replicas in streams mode, HAProxy with TLS and cookie affinity,
// see tests/topology/topo) while 300 real socket.io-client clients in 10
// rooms, run by a few Node processes, receive a steady stream of numbered
// events published through the HTTP API:
//
//   - TestKillReplica: SIGKILL one replica; with connection state recovery
//     every client reconnects and ends with every number exactly once, in
//     order.
//   - TestRollingRestart: SIGTERM (drain, exit 0) then restart each replica
//     in turn; same check.
//   - TestWithoutRecovery: both again with HUB_RECOVERY_WINDOW=0; the
//     events lost are reported (SUMMARY and LOST lines of -v output).
//
// Each run takes 15-30 s; CHAOS_HEAVY=1 runs 1200 clients and 600 events
// per room instead. Without redis-server, haproxy or node the tests skip,
// unless CI is set.
package chaos
