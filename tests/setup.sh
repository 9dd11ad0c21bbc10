#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine. Idempotent.
#   - redis-server and haproxy from Debian
#   - the Node peers (socket.io-client, socket.io, redis adapters) from the
#     committed lockfile in tests/node
#   - staticcheck and actionlint into the tool cache
# Heavy tools (Pulumi CLI, Kubernetes control plane) are built by the scripts
# under tests/tools, which cache their output outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ((${#need_apt[@]})); then
	echo "setup: apt-get install ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# The Debian package starts a system redis on :6379; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi

if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
	echo "setup: npm ci (tests/node)"
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
fi

# Go-installed linters, pinned, into the tool cache (tests/run.sh puts its
# bin on PATH).
tools="${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}"
install_tool() { # name module@version
	if ! [ -x "$tools/bin/$1" ] || ! grep -qx "$2" "$tools/bin/.$1.version" 2>/dev/null; then
		echo "setup: go install $2 into $tools/bin"
		GOBIN="$tools/bin" go install "$2"
		echo "$2" >"$tools/bin/.$1.version"
	fi
}
install_tool staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
install_tool actionlint github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
