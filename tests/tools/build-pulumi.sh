#!/usr/bin/env bash
# build-pulumi.sh — build the Pulumi CLI and the kubernetes resource provider
# plugin from the Go module proxy into a cache directory outside the checkout.
#
# Neither tool is preinstalled and neither is downloaded as a release binary:
# both are compiled from source through two small wrapper modules that live next
# to this script (each has its own go.mod, so the root module ignores them):
#
#   tests/tools/pulumi-cli/          requires github.com/pulumi/pulumi/pkg/v3
#                                    (+ upstream's one replace for atotto/clipboard);
#                                    builds pkg/v3/cmd/pulumi with
#                                    -X .../sdk/v3/go/common/version.Version=$PULUMI_VERSION
#                                    (the Automation API parses `pulumi version`).
#   tests/tools/pulumi-kubernetes/   requires github.com/pulumi/pulumi-kubernetes/provider/v4
#                                    at the only pseudo-version the proxy serves, pinned
#                                    with sdk/v4 v4.25.0 and pulumi pkg/sdk v3.215.0;
#                                    its own main embeds schema-embed.json and
#                                    terraform-mapping-embed.json, generated here from the
#                                    provider module's schema.json/terraform-mapping.json.
#
# Cache layout (keyed by version; reused by CI on the same machine, rebuilt on a
# fresh one):
#
#   ${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}/
#     pulumi-<PULUMI_VERSION>/bin/pulumi
#     pulumi-kubernetes-<K8S_PROVIDER_VERSION>/bin/pulumi-resource-kubernetes
#     */.stamp         sha256 of the wrapper go.mod+go.sum the binary was built from
#     build/           scratch copies of the wrapper modules
#     logs/            build logs
#
# Usage:
#   tests/tools/build-pulumi.sh               build what is missing or stale, then
#                                             print the PATH directories (one line,
#                                             colon-separated) on stdout
#   tests/tools/build-pulumi.sh --print-path  print the PATH directories, build nothing
#   tests/tools/build-pulumi.sh --check       exit 0 if both binaries are present and fresh
#
# Use it:
#   export PATH="$(tests/tools/build-pulumi.sh):$PATH"
#   export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
#
# Cold build time: ~8-10 min for the CLI and ~5-10 min for the provider on an idle
# 2-core machine (longer when shared). Builds run under `nice`.
# Env: HUBKIT_TOOLS (cache root), PULUMI_VERSION, GOFLAGS passes through.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.259.0}"
K8S_PROVIDER_VERSION="${K8S_PROVIDER_VERSION:-v4.25.0}"
TOOLS="${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CLI_DIR="$TOOLS/pulumi-$PULUMI_VERSION"
K8S_DIR="$TOOLS/pulumi-kubernetes-$K8S_PROVIDER_VERSION"
BIN_PATH="$CLI_DIR/bin:$K8S_DIR/bin"

stamp_of() { cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -d' ' -f1; }

fresh() { # fresh <tool dir> <binary> <wrapper dir>
	[[ -x "$1/bin/$2" && -f "$1/.stamp" ]] && [[ "$(cat "$1/.stamp")" == "$(stamp_of "$3")" ]]
}

case "${1:-}" in
--print-path)
	echo "$BIN_PATH"
	exit 0
	;;
--check)
	fresh "$CLI_DIR" pulumi "$HERE/pulumi-cli" &&
		fresh "$K8S_DIR" pulumi-resource-kubernetes "$HERE/pulumi-kubernetes"
	exit $?
	;;
"") ;;
*)
	echo "usage: $0 [--print-path|--check]" >&2
	exit 2
	;;
esac

mkdir -p "$TOOLS/logs" "$TOOLS/build"
export GOFLAGS="${GOFLAGS:-} -mod=readonly -trimpath"

build_cli() {
	local wrap="$HERE/pulumi-cli" scratch="$TOOLS/build/pulumi-cli"
	fresh "$CLI_DIR" pulumi "$wrap" && return 0
	echo "build-pulumi: building pulumi $PULUMI_VERSION (log: $TOOLS/logs/pulumi-cli.log)" >&2
	rm -rf "$scratch" && mkdir -p "$scratch" "$CLI_DIR/bin"
	cp "$wrap/go.mod" "$wrap/go.sum" "$wrap/tools.go" "$scratch/"
	(
		cd "$scratch" &&
		nice -n 10 go build -o "$CLI_DIR/bin/pulumi.tmp" \
			-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
			github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	) >"$TOOLS/logs/pulumi-cli.log" 2>&1 || {
		tail -20 "$TOOLS/logs/pulumi-cli.log" >&2
		return 1
	}
	mv "$CLI_DIR/bin/pulumi.tmp" "$CLI_DIR/bin/pulumi"
	stamp_of "$wrap" >"$CLI_DIR/.stamp"
}

build_k8s() {
	local wrap="$HERE/pulumi-kubernetes" scratch="$TOOLS/build/pulumi-kubernetes"
	fresh "$K8S_DIR" pulumi-resource-kubernetes "$wrap" && return 0
	echo "build-pulumi: building pulumi-resource-kubernetes $K8S_PROVIDER_VERSION (log: $TOOLS/logs/pulumi-kubernetes.log)" >&2
	rm -rf "$scratch" && mkdir -p "$scratch" "$K8S_DIR/bin"
	cp -r "$wrap/." "$scratch/"
	(
		# set -e does not apply inside a subshell tested with ||: chain with &&.
		cd "$scratch" &&
		# `go list -m` reports no Dir for a module not yet in the module
		# cache (a fresh machine): download it first.
		go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
		dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)" &&
		[ -n "$dir" ] &&
		go run ./cmd/gen-embed -version "${K8S_PROVIDER_VERSION#v}" -src "$dir/cmd/pulumi-resource-kubernetes" -dst ./cmd/pulumi-resource-kubernetes &&
		nice -n 10 go build -o "$K8S_DIR/bin/pulumi-resource-kubernetes.tmp" \
			-ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_PROVIDER_VERSION#v}" \
			./cmd/pulumi-resource-kubernetes
	) >"$TOOLS/logs/pulumi-kubernetes.log" 2>&1 || {
		tail -20 "$TOOLS/logs/pulumi-kubernetes.log" >&2
		return 1
	}
	mv "$K8S_DIR/bin/pulumi-resource-kubernetes.tmp" "$K8S_DIR/bin/pulumi-resource-kubernetes"
	stamp_of "$wrap" >"$K8S_DIR/.stamp"
}

build_cli
build_k8s
echo "$BIN_PATH"
