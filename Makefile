# hubkit — thin wrappers around the go toolchain. `make help` lists targets.
SHELL := /usr/bin/env bash
GO    ?= go
PKGS  ?= ./...
FUZZTIME ?= 30s

.PHONY: help run setup test test-short lint fuzz bench cluster

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## run one hub locally (in-memory adapter, :3000)
	$(GO) run ./service/cmd/hub

setup: ## install what the tests need (redis-server, haproxy, Node packages)
	./tests/setup.sh

test: ## the whole suite: lint, then every test with -race
	./tests/run.sh

test-short: ## unit tests only (no Redis, Node or built tools needed)
	$(GO) test -race -short $(PKGS)

lint: ## gofmt, go vet, staticcheck, go mod tidy drift
	./tests/lint.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	./tests/fuzz.sh $(FUZZTIME)

bench: ## Go micro-benchmarks with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem ./service/...

cluster: ## redis + 3 hub replicas + HAProxy (TLS, cookie affinity) on loopback; Ctrl-C stops
	./tests/topology/cluster.sh
