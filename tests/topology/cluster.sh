#!/usr/bin/env bash
# Starts the production topology on loopback: redis-server, N hub replicas and
# HAProxy in front of them (TLS with a self-signed certificate made on first
# run, cookie-inserted session affinity, websocket tunnels). Prints the URL and
# runs until Ctrl-C (or SIGTERM), then stops everything it started.
#
# Environment (all optional):
#   CLUSTER_DIR      state dir (certificate, configs, logs)  default .cache/cluster
#   CLUSTER_PORT     HTTPS port of the proxy                 default 8443
#   CLUSTER_REPLICAS hub replicas                            default 3
#   CLUSTER_BASE     first hub port (then +1, +2, ...)       default 3101
#   REDIS_PORT       redis-server port                       default 6390
#   HUB_BIN          a built hub binary (default: go build ./service/cmd/hub)
#   HUB_API_KEY      bearer key of POST /api/v1/publish       default dev-key
#   any HUB_* variable is passed through to every replica (HUB_REDIS_MODE
#   defaults to streams: connection state recovery across replicas).
#
# Try it: open https://localhost:8443/ clients with socket.io-client
# (rejectUnauthorized:false or the printed certificate, withCredentials:true
# to keep the affinity cookie), publish with
#   curl -k -H 'Authorization: Bearer dev-key' -H 'Content-Type: application/json' \
#        -d '{"room":"r","event":"e","data":1}' https://localhost:8443/api/v1/publish
# and kill -9 one replica (its PID is printed) to watch clients recover on
# the others. The X-Hub-Replica response header names the replica that
# answered a /socket.io/ request.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${CLUSTER_DIR:-$root/.cache/cluster}"
port="${CLUSTER_PORT:-8443}"
replicas="${CLUSTER_REPLICAS:-3}"
base="${CLUSTER_BASE:-3101}"
redis_port="${REDIS_PORT:-6390}"
mkdir -p "$dir"

for bin in redis-server haproxy openssl; do
	command -v "$bin" >/dev/null || { echo "cluster: $bin not found (run: make setup)" >&2; exit 1; }
done

pids=()
stop() {
	trap - INT TERM EXIT
	echo "cluster: stopping"
	# Hubs first (they drain), then the proxy, then Redis.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if [ ! -s "$dir/proxy.pem" ]; then
	echo "cluster: generating a self-signed certificate for localhost"
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
	cat "$dir/cert.pem" "$dir/key.pem" >"$dir/proxy.pem"
fi

hub="${HUB_BIN:-}"
if [ -z "$hub" ]; then
	hub="$dir/hub"
	(cd "$root" && go build -o "$hub" ./service/cmd/hub)
fi

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)
redis_pid=$!

servers=""
for ((i = 1; i <= replicas; i++)); do
	p=$((base + i - 1))
	HUB_ADDR="127.0.0.1:$p" REDIS_URL="redis://127.0.0.1:$redis_port" HUB_REPLICA_ID="hub$i" \
		HUB_API_KEY="${HUB_API_KEY:-dev-key}" "$hub" >"$dir/hub$i.log" 2>&1 &
	pids+=($!)
	echo "cluster: hub$i on 127.0.0.1:$p (pid $!)"
	servers+="    server hub$i 127.0.0.1:$p check inter 250ms fall 2 rise 1 cookie hub$i"$'\n'
done

cat >"$dir/haproxy.cfg" <<CFG
global
    maxconn 8000
defaults
    mode http
    option http-server-close
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend hubkit
    bind 127.0.0.1:$port ssl crt $dir/proxy.pem alpn http/1.1
    default_backend hubs
backend hubs
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    cookie HUBKIT_AFFINITY insert indirect nocache httponly secure
$servers
CFG
haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
pids+=($!)
proxy_pid=$!

echo "cluster: https://localhost:$port/  (self-signed: $dir/cert.pem)"
echo "cluster: $replicas replicas on 127.0.0.1:$base.., redis on 127.0.0.1:$redis_port, logs in $dir"
echo "cluster: Ctrl-C to stop"
# A replica that exits (killed, drained) is reported and the rest keep
# serving; Redis or HAProxy exiting stops everything.
while true; do
	wait -n "${pids[@]}" || true
	if ! kill -0 "$redis_pid" 2>/dev/null || ! kill -0 "$proxy_pid" 2>/dev/null; then
		echo "cluster: redis-server or haproxy exited; see logs in $dir" >&2
		exit 1
	fi
	alive=()
	for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
	echo "cluster: a hub replica exited; ${#alive[@]} processes left (logs in $dir)" >&2
	pids=("${alive[@]}")
done
