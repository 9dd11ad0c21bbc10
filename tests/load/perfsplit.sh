#!/usr/bin/env bash
# perfsplit.sh — where the servers' CPU per delivery goes in the c30k load
# (3 replicas, 3,000 subscribers in 30 rooms, 300 msgs/s = 30,000 deliveries/s):
# the kernel's send path (the write/writev system calls that carry each frame
# to its client, TCP and loopback included) against everything else.
#
#   tests/load/perfsplit.sh [-o OUTDIR] [-rounds N]
#
# Each round runs bench.sh's c30k scenario once for Node and once for the Go
# hub (interleaved, so both see the same noise) and samples the whole machine
# with `perf record -a -g` (cpu-clock) for 15 s of the 20 s phase. The samples
# of the server PIDs (from the load tool's JSON) are split by their call
# chains: a sample under ksys_write, do_writev or __sys_sendto is the send path. The split is
# then applied to the load tool's CPU per delivery (utime+stime of the server
# PIDs ÷ deliveries). Needs: what bench.sh needs, perf (Debian linux-perf), python3.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.cache/perfsplit/$(date -u +%Y%m%dT%H%M%SZ)"
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [-o OUTDIR] [-rounds N]" >&2; exit 2 ;;
  esac
done
command -v perf >/dev/null || { echo "perfsplit: perf not found (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$out"

run() { # round kind
  local dir="$out/r$1-$2" bpid
  mkdir -p "$dir"
  bash "$root/tests/load/bench.sh" -o "$dir" -only "$2" -scenarios c30k >"$dir/bench.log" 2>&1 &
  bpid=$!
  for _ in $(seq 1 1200); do
    grep -q 'idle memory' "$dir/load.log" 2>/dev/null && break
    kill -0 "$bpid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 2
  perf record -q -a -g -o "$dir/perf.data" -- sleep 15 >/dev/null 2>&1 || true
  wait "$bpid"
  perf script -i "$dir/perf.data" -F pid,ip,sym 2>/dev/null >"$dir/perf.txt"
}

for r in $(seq 1 "$rounds"); do
  for kind in node go; do
    printf '%s round %s: %s\n' "$(date -u +%H:%M:%S)" "$r" "$kind" >&2
    run "$r" "$kind"
  done
done

python3 - "$out" <<'EOF'
import glob, json, os, sys

out = sys.argv[1]
SEND = ("ksys_write", "do_writev", "__sys_sendto")
TCP = ("tcp_sendmsg",)

def split(d):
    pids = set(json.load(open(os.path.join(d, "c30k-" + d.rsplit("-", 1)[1] + ".json")))["config"]["pids"])
    cpu = json.load(open(glob.glob(os.path.join(d, "c30k-*.json"))[0]))["phases"][0]["cpuPerDeliveryMicros"]
    total = send = tcp = 0
    for block in open(os.path.join(d, "perf.txt")).read().split("\n\n"):
        lines = block.strip().split("\n")
        if not lines or not lines[0].strip():
            continue
        try:
            pid = int(lines[0].split()[0])
        except ValueError:
            continue
        if pid not in pids:
            continue
        syms = [l.strip().split(None, 1)[-1] for l in lines[1:]]
        total += 1
        if any(s in SEND for s in syms):
            send += 1
        if any(s in TCP for s in syms):
            tcp += 1
    return cpu, total, send, tcp

rows = []
for d in sorted(glob.glob(os.path.join(out, "r*-*"))):
    try:
        cpu, total, send, tcp = split(d)
    except (OSError, KeyError, IndexError, ValueError) as e:
        print(f"{d}: no result ({e})", file=sys.stderr)
        continue
    if total == 0:
        continue
    f, t = send / total, tcp / total
    rows.append((os.path.basename(d), cpu, total, f, cpu * f, cpu * t, cpu * (1 - f)))

with open(os.path.join(out, "summary.md"), "w") as fh:
    fh.write("| round-server | CPU µs/delivery | server samples | in send syscalls | µs/delivery in send syscalls | of it in tcp_sendmsg | µs/delivery outside |\n")
    fh.write("|---|---|---|---|---|---|---|\n")
    for name, cpu, total, f, send_us, tcp_us, rest in rows:
        fh.write(f"| {name} | {cpu:.2f} | {total} | {f*100:.1f} % | {send_us:.2f} | {tcp_us:.2f} | {rest:.2f} |\n")
print(open(os.path.join(out, "summary.md")).read())
EOF
echo "results in $out" >&2
