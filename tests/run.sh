#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, lint, then every Go test with -race.
# Suites that need Redis, Node or built tools fail (not skip) when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
./tests/setup.sh
export PATH="${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}/bin:$PATH"
./tests/lint.sh

# Heavy tools for the kit's real preview/up tests, cached outside the checkout.
for script in tests/tools/build-pulumi.sh tests/tools/build-k8s.sh; do
	if [ -x "$script" ]; then
		echo "tools: $script"
		t0=$SECONDS
		"$script"
		echo "tools: $script took $((SECONDS - t0))s"
	fi
done

echo "test: go test -race ./..."
go test -race -count=1 -timeout 40m ./...
echo "test: whole suite took $((SECONDS - start))s"
