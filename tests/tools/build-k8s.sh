#!/usr/bin/env bash
# build-k8s.sh builds the local control plane used by the deploy test:
# kube-apiserver, kube-controller-manager and kube-scheduler (k8s.io/kubernetes),
# etcd (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok), all from the Go
# module proxy, into a cache outside the checkout keyed by version:
#
#   ${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}/k8s-v1.37.2/bin/{kube-apiserver,
#       kube-controller-manager,kube-scheduler,etcd,kwok}
#   ${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}/k8s-v1.37.2/kwok-stage/*.yaml
#
# A binary that is already in the cache is not rebuilt, so a repeat run takes a
# second. The wrapper modules live in tests/tools/k8s and tests/tools/etcd (each
# its own go.mod, so the root module ignores them).
#
# Usage: tests/tools/build-k8s.sh            build what is missing, print the bin dir
#        tests/tools/build-k8s.sh --print    print the bin dir only
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${HUBKIT_TOOLS:-$HOME/.cache/hubkit-tools}"
root="$tools/k8s-$K8S_VERSION"
bin="$root/bin"

if [[ "${1:-}" == "--print" ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$bin"
log() { echo "build-k8s: $*" >&2; }

# stamp records which version a cached binary was built from; a binary whose
# stamp does not match is rebuilt.
fresh() { [[ -x "$bin/$1" && "$(cat "$bin/.$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

export GOFLAGS="${GOFLAGS:-} -mod=readonly"
export CGO_ENABLED=0

# --- kubernetes ----------------------------------------------------------------
need_k8s=()
for b in kube-apiserver kube-controller-manager kube-scheduler; do
	fresh "$b" "$K8S_VERSION" || need_k8s+=("$b")
done
if ((${#need_k8s[@]})); then
	start=$SECONDS
	log "building ${need_k8s[*]} $K8S_VERSION"
	minor="${K8S_VERSION#v1.}"
	minor="${minor%%.*}"
	ld=""
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $pkg.gitVersion=$K8S_VERSION"
		ld+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ld+=" -X $pkg.gitTreeState=clean"
		ld+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	pkgs=()
	for b in "${need_k8s[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
	(cd "$here/k8s" && nice -n 10 go build -trimpath -ldflags "-s -w$ld" -o "$bin/" "${pkgs[@]}")
	for b in "${need_k8s[@]}"; do stamp "$b" "$K8S_VERSION"; done
	log "kubernetes built in $((SECONDS - start))s"
fi

# --- etcd ------------------------------------------------------------------------
if ! fresh etcd "$ETCD_VERSION"; then
	start=$SECONDS
	log "building etcd $ETCD_VERSION"
	(cd "$here/etcd" && nice -n 10 go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3)
	stamp etcd "$ETCD_VERSION"
	log "etcd built in $((SECONDS - start))s"
fi

# --- kwok ------------------------------------------------------------------------
if ! fresh kwok "$KWOK_VERSION" || [[ ! -d "$root/kwok-stage" ]]; then
	start=$SECONDS
	log "building kwok $KWOK_VERSION"
	GOFLAGS="${GOFLAGS/-mod=readonly/}" GOBIN="$bin" nice -n 10 go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
	stamp kwok "$KWOK_VERSION"
	# The stages kwok applies to the fake node, its pods and their volumes ship
	# in its module; copy the ones the control plane uses.
	src="$(GOFLAGS= go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	rm -rf "$root/kwok-stage.tmp"
	mkdir -p "$root/kwok-stage.tmp"
	for f in node/fast/node-initialize.yaml \
		node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
		volume/fast/pv-bind.yaml volume/fast/pv-delete.yaml \
		volume/fast/pvc-provision.yaml volume/fast/pvc-delete.yaml; do
		cp "$src/kustomize/stage/$f" "$root/kwok-stage.tmp/${f//\//_}"
	done
	chmod -R u+w "$root/kwok-stage.tmp"
	rm -rf "$root/kwok-stage"
	mv "$root/kwok-stage.tmp" "$root/kwok-stage"
	log "kwok built in $((SECONDS - start))s"
fi

echo "$bin"
