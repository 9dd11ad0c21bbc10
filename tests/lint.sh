#!/usr/bin/env bash
# gofmt, go vet, staticcheck and go.mod tidiness. Fails on the first finding.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}"
staticcheck="$tools/bin/staticcheck"
[ -x "$staticcheck" ] || staticcheck="$(command -v staticcheck || true)"

echo "lint: gofmt"
bad=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

echo "lint: go vet"
go vet ./...

if [ -n "$staticcheck" ]; then
	echo "lint: staticcheck"
	"$staticcheck" ./...
else
	echo "lint: staticcheck not installed (run tests/setup.sh)"; exit 1
fi

echo "lint: go mod tidy drift"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp go.mod go.sum "$tmp/"
go mod tidy
if ! diff -q go.mod "$tmp/go.mod" >/dev/null || ! diff -q go.sum "$tmp/go.sum" >/dev/null; then
	cp "$tmp/go.mod" "$tmp/go.sum" .
	echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; exit 1
fi
