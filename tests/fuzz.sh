#!/usr/bin/env bash
# Runs every native fuzz target in the module for the given time each.
#   tests/fuzz.sh 5m     # or: make fuzz FUZZTIME=5m
# The seed corpora (real frames, whole and split) also run as plain tests in
# `make test`; this script explores beyond them. Crashers land in the
# package's testdata/fuzz/ folder: commit them as regression cases.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-30s}"
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' service | sort | while read -r file; do
	pkg="./$(dirname "$file")"
	grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | while read -r target; do
		echo "fuzz: $pkg $target for $fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done
