// Command load drives a Socket.IO server that implements hubkit's client
// contract (the Go hub, or the Node baseline in tests/nodehub) with N real
// websocket clients and reports what the issue asks for: connect rate, RSS per
// idle connection of the server process(es), delivery latency p50/p90/p99/max,
// loss (expected vs received deliveries) and the servers' CPU time per
// delivered message. Output is human-readable on stdout and JSON with -json.
//
// Shape of a run: the coordinator (this process) samples the servers' /proc
// numbers and starts -procs worker processes (itself, re-executed with
// HUBLOAD_WORKER=1). Each worker dials its share of the clients from several
// loopback source addresses (127.0.0.2, 127.0.0.3, …) over the -targets
// round-robin, joins subscribers to rooms and reports "ready". After -settle
// the coordinator reads RSS again, then runs one or more publish phases: every
// publisher emits `publish(room, "msg", {ph,s,r,t}, ack)` at its share of
// -rate, subscribers timestamp arrivals against t (same host clock), and after
// -drain each worker reports counts and latency histograms. A ramp repeats the
// phase at rate×-ramp-factor until p99 passes -ramp-max-p99 or a delivery is
// lost. Every phase and the whole run are bounded in time (-timeout); workers
// exit when the coordinator's pipe closes.
//
// Coordinator and workers talk JSON lines over the workers' stdin/stdout;
// workers log to stderr.
package main
