#!/usr/bin/env bash
# bench.sh — run the issue #3/#4 load comparison in one go: the Go hub and the
# Node baseline (tests/nodehub) driven by the same tool with the same load, on
# the same machine, interleaved per scenario so both see the same noise.
#
#   tests/load/bench.sh [-o OUTDIR] [-only node|go] [-quick] [-scenarios a,b,...]
#
# Scenarios (each server kind started fresh for each one):
#   idle     single node, 10,000 idle websocket clients: RSS per connection
#   fanout   single node, 3,000 subscribers in 30 rooms, 30 publishers, 300 msgs/s
#   cluster  3 replicas on one redis-server, 600 subscribers in 100 rooms, 1,000 msgs/s
#   c30k     3 replicas, 3,000 subscribers in 30 rooms, 300 msgs/s (30,000 deliveries/s)
#   ramp     3 replicas, the c30k layout from 100 msgs/s ×1.5 per 10 s step until
#            p99 > 1 s or any loss
#   cluster-mixed  the cluster load on one Node + two Go replicas (migration case)
# Results: OUTDIR/<scenario>-<kind>.json (+ .txt) and OUTDIR/summary.md.
# Both servers run the same contract without connection state recovery (the
# Node app has none; Node's classic redis-adapter cannot recover), so the Go hub
# gets HUB_RECOVERY_WINDOW=0; set BENCH_GO_RECOVERY=2m to measure it with
# recovery on (it then appends an offset to every event). The Go hub is run in
# HUB_REDIS_MODE=classic, the mode of the Node app's @socket.io/redis-adapter
# (BENCH_GO_REDIS_MODE=sharded|streams to change; those do not interoperate with
# the Node replica of the mixed scenario).
# BENCH_GO_BASE=/path/to/hub adds a third server kind, "gobase": that binary
# run exactly like the Go hub, to compare two builds in the same minutes.
# BENCH_GO_GOMAXPROCS=N runs the Go hubs (not the load tool) with GOMAXPROCS=N.
# Needs: go, node (+ npm ci --prefix tests/node), /usr/bin/redis-server, jq, curl.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.cache/bench/$(date -u +%Y%m%dT%H%M%SZ)"
only=""
quick=0
scenarios="" # empty: every scenario
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -only) only=$2; shift 2 ;;
    -quick) quick=1; shift ;;
    -scenarios) scenarios=",$2,"; shift 2 ;;
    *) echo "usage: $0 [-o OUTDIR] [-only node|go] [-quick] [-scenarios a,b,...]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
bin="$out/bin"
mkdir -p "$bin"
tmp=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 130" INT TERM

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # url pid
  for _ in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 never answered" >&2
  return 1
}

stop() { # pid...
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

log "building the load tool"
(cd "$root" && go build -o "$bin/load" ./tests/load)
kinds=()
if [ "$only" != "go" ]; then kinds+=(node); fi
if [ "$only" != "node" ]; then
  log "building the Go hub"
  if (cd "$root" && go build -o "$bin/hub" ./service/cmd/hub) 2>"$out/hub-build.log"; then
    kinds+=(go)
    if [ -n "${BENCH_GO_BASE:-}" ]; then cp "$BENCH_GO_BASE" "$bin/hub-base"; kinds+=(gobase); fi
  else
    log "the Go hub does not build (see $out/hub-build.log): measuring Node only"
  fi
fi

redis_port=$(free_port)
/usr/bin/redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$out/redis.log" 2>&1 &
pids+=($!)
redis_pid=$!
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis_url="redis://127.0.0.1:$redis_port"

# start_server KIND REDIS(0|1) — writes "url pid" to $tmp/last
start_server() {
  local kind=$1 use_redis=$2 port pid env=()
  port=$(free_port)
  if [ "$use_redis" = 1 ]; then env+=("REDIS_URL=$redis_url"); fi
  case "$kind" in
    node)
      env PORT="$port" HOST=127.0.0.1 HUB_API_KEY=bench "${env[@]}" \
        node "$root/tests/nodehub/server.js" >>"$out/server-node.log" 2>&1 &
      pid=$! ;;
    go|gobase)
      local exe="$bin/hub"
      [ "$kind" = gobase ] && exe="$bin/hub-base"
      env HUB_ADDR="127.0.0.1:$port" HUB_API_KEY=bench HUB_ENV=development HUB_LOG_LEVEL=warn \
        HUB_RECOVERY_WINDOW="${BENCH_GO_RECOVERY:-0}" HUB_REDIS_MODE="${BENCH_GO_REDIS_MODE:-classic}" \
        HUB_DRAIN_WINDOW=2s ${BENCH_GO_GOMAXPROCS:+GOMAXPROCS=$BENCH_GO_GOMAXPROCS} "${env[@]}" \
        "$exe" >>"$out/server-$kind.log" 2>&1 &
      pid=$! ;;
  esac
  pids+=("$pid")
  if ! wait_http "http://127.0.0.1:$port/healthz" "$pid"; then
    stop "$pid"
    return 1
  fi
  echo "http://127.0.0.1:$port $pid" >"$tmp/last"
}

wanted() { [ -z "$scenarios" ] || [[ "$scenarios" == *",$1,"* ]]; }

# scenario NAME REPLICAS TOOL-ARGS...
scenario() {
  local name=$1 replicas=$2; shift 2
  wanted "$name" || return 0
  for kind in "${kinds[@]}"; do
    local urls=() spids=() use_redis=0 ok=1
    [ "$replicas" -gt 1 ] && use_redis=1
    for _ in $(seq 1 "$replicas"); do
      if ! start_server "$kind" "$use_redis"; then ok=0; break; fi
      read -r u p <"$tmp/last"
      urls+=("$u"); spids+=("$p")
    done
    if [ "$ok" = 0 ]; then
      log "$name on $kind: the server did not start (see $out/server-$kind.log); skipped"
      echo "$name on $kind: server did not start; see server-$kind.log" >>"$out/skipped.txt"
      [ "${#spids[@]}" -gt 0 ] && stop "${spids[@]}"
      continue
    fi
    sleep 1 # let the adapters finish subscribing
    log "$name on $kind (${urls[*]})"
    "$bin/load" -label "$kind" -targets "$(IFS=,; echo "${urls[*]}")" -pids "$(IFS=,; echo "${spids[*]}")" \
      -json "$out/$name-$kind.json" "$@" >"$out/$name-$kind.txt" 2>>"$out/load.log" || log "$name on $kind: the tool failed (see $out/load.log)"
    cat "$out/$name-$kind.txt" >&2 || true
    stop "${spids[@]}"
  done
}

# mixed NAME TOOL-ARGS... — one Node replica and two Go replicas in one cluster
# (the migration case of issue #4), when the Go hub built.
mixed() {
  local name=$1; shift
  wanted "$name-mixed" || return 0
  case " ${kinds[*]} " in *" go "*) ;; *) return 0 ;; esac
  case " ${kinds[*]} " in *" node "*) ;; *) return 0 ;; esac
  local urls=() spids=() k
  for k in node go go; do
    if ! start_server "$k" 1; then
      log "$name: $k did not start; skipped"
      echo "$name: $k replica did not start" >>"$out/skipped.txt"
      [ "${#spids[@]}" -gt 0 ] && stop "${spids[@]}"
      return 0
    fi
    read -r u p <"$tmp/last"
    urls+=("$u"); spids+=("$p")
  done
  sleep 1
  log "$name on node+go+go (${urls[*]})"
  "$bin/load" -label "node+go+go" -targets "$(IFS=,; echo "${urls[*]}")" -pids "$(IFS=,; echo "${spids[*]}")" \
    -json "$out/$name-mixed.json" "$@" >"$out/$name-mixed.txt" 2>>"$out/load.log" || log "$name: the tool failed (see $out/load.log)"
  cat "$out/$name-mixed.txt" >&2 || true
  stop "${spids[@]}"
}

dur=20s; ramp_steps=12
if [ "$quick" = 1 ]; then dur=5s; ramp_steps=4; fi

scenario idle 1 -scenario idle
scenario fanout 1 -scenario fanout -duration "$dur"
scenario cluster 3 -scenario cluster -duration "$dur"
scenario c30k 3 -scenario fanout -duration "$dur"
scenario ramp 3 -scenario ramp -ramp-steps "$ramp_steps"
mixed cluster -scenario cluster -duration "$dur"
stop "$redis_pid"

# Summary table.
{
  echo "# load comparison $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo
  echo "| scenario | server | RSS/idle conn | connect/s | deliveries/s | p50 ms | p99 ms | cross p50/p99 ms | lost | server CPU µs/delivery | loadgen CPU s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "$out"/*.json; do
    jq -r --arg f "$(basename "$f" .json)" '
      . as $r | ($r.phases // [null]) as $ph |
      if $r.ramp then
        "| \($f) | \($r.label) | | | \($r.ramp.highestSustainedDeliveriesPerSecond|floor) sustained (at \($r.ramp.rateMsgsPerSecond|floor) msgs/s) | | | | stop: \($r.ramp.stopReason) | | |"
      else
        ($ph[0]) as $p |
        "| \($f) | \($r.label) | \(if $r.memory then "\($r.memory.perConnectionBytes/1024*10|floor/10) KiB" else "" end) | \($r.connect.perSecond|floor) | \(if $p then ($p.deliveriesPerSecond|floor) else "" end) | \(if $p then ($p.latency.p50Ms*100|floor/100) else "" end) | \(if $p then ($p.latency.p99Ms*100|floor/100) else "" end) | \(if $p and $p.crossReplica.count > 0 then "\($p.crossReplica.p50Ms*100|floor/100) / \($p.crossReplica.p99Ms*100|floor/100)" else "" end) | \(if $p then $p.lost else "" end) | \(if $p then ($p.cpuPerDeliveryMicros*100|floor/100) else "" end) | \(if $p then ($p.loadgenCpuSeconds*100|floor/100) else "" end) |"
      end' "$f"
  done
} >"$out/summary.md"
[ -f "$out/skipped.txt" ] && { echo; echo "Skipped:"; sed 's/^/- /' "$out/skipped.txt"; } >>"$out/summary.md"
cat "$out/summary.md"
log "results in $out"
