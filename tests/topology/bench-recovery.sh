#!/usr/bin/env bash
# The cost of connection state recovery: the same cluster load (tests/load
# -scenario cluster: 600 subscribers in 100 rooms, 30 publishers, 1,000
# msgs/s = 6,000 deliveries/s for 20 s) against three hub replicas on one
# redis-server, in streams mode with HUB_RECOVERY_WINDOW=2m, in streams mode
# with recovery off, and in classic mode for reference. One run each,
# interleaved; reports go to $OUT (default .cache/bench-recovery).
#
#   tests/topology/bench-recovery.sh            # all three
#   VARIANTS="streams:2m streams:0" tests/topology/bench-recovery.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$root/.cache/bench-recovery}"
variants="${VARIANTS:-streams:2m streams:0 classic:0}"
mkdir -p "$out"
tmp="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

(cd "$root" && go build -o "$tmp/hub" ./service/cmd/hub && go build -o "$tmp/load" ./tests/load)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$out/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

for v in $variants; do
	mode=${v%%:*} window=${v#*:}
	redis-cli -p "$redis_port" flushall >/dev/null
	urls=() hpids=()
	for i in 1 2 3; do
		port=$(free_port)
		HUB_ADDR="127.0.0.1:$port" REDIS_URL="redis://127.0.0.1:$redis_port" HUB_REDIS_MODE="$mode" \
			HUB_RECOVERY_WINDOW="$window" HUB_API_KEY=bench HUB_LOG_LEVEL=warn HUB_REPLICA_ID="hub$i" \
			"$tmp/hub" >>"$out/hub-$mode-$window.log" 2>&1 &
		hpids+=($!)
		urls+=("http://127.0.0.1:$port")
	done
	for u in "${urls[@]}"; do
		for _ in $(seq 1 100); do curl -fs "$u/readyz" >/dev/null && break; sleep 0.1; done
	done
	echo "== $mode, HUB_RECOVERY_WINDOW=$window ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
	"$tmp/load" -scenario cluster -targets "$(IFS=,; echo "${urls[*]}")" -pids "$(IFS=,; echo "${hpids[*]}")" \
		-json "$out/$mode-$window.json" | tee "$out/$mode-$window.txt"
	kill "${hpids[@]}" 2>/dev/null || true
	wait "${hpids[@]}" 2>/dev/null || true
done
