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
// workers log to stderr. HUBLOAD_CPUPROFILE=<prefix> makes every worker write
// a CPU profile to <prefix>.<pid>.
//
// Examples (bench.sh runs all of them against fresh Node and Go servers):
//
//	go build -o /tmp/load ./tests/load
//	/tmp/load -scenario idle -targets http://127.0.0.1:3000 -pids $PID
//	/tmp/load -scenario fanout -targets http://127.0.0.1:3000 -pids $PID -json out.json
//	/tmp/load -scenario cluster -targets $URL1,$URL2,$URL3 -pids $P1,$P2,$P3
//	/tmp/load -scenario ramp -targets $URL1,$URL2,$URL3 -pids $P1,$P2,$P3
//
// Presets (explicit flags override them):
//
//	idle     10,000 clients, no rooms, RSS read after -settle 10s
//	fanout   3,000 subscribers in 30 rooms, 30 publishers, 300 msgs/s = 30,000 deliveries/s
//	cluster  600 subscribers in 100 rooms, 30 publishers, 1,000 msgs/s = 6,000 deliveries/s
//	ramp     the fanout layout from 100 msgs/s, ×1.5 per 10 s phase, up to 12 phases,
//	         until a phase loses a delivery or its p99 exceeds 1 s
//
// Definitions: expected deliveries = Σ over rooms of (messages published to
// the room × subscribers whose join was acked); lost = expected − received
// by the end of -drain; latency = arrival − the publisher's send time (same
// host clock); server CPU per delivery = Δ(utime+stime) of -pids over the
// phase and its drain ÷ deliveries received; RSS per idle connection =
// Δ VmRSS of -pids from before the first dial to -settle after the last ÷
// connected clients.
package main
