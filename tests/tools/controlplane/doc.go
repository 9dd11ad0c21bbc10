// Package controlplane starts a real, loopback-only Kubernetes control plane
// for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok managing one fake node, so Deployments become Available and
// StatefulSets ready without a container runtime.
//
// The binaries are built once by tests/tools/build-k8s.sh into a cache outside
// the checkout (see [DefaultBinDir]). [Start] makes fresh certificates,
// service-account keys, a kubeconfig and etcd data in a temporary directory,
// starts every component on free 127.0.0.1 ports, waits until each is healthy
// and the node is Ready, and returns a [ControlPlane]. [ControlPlane.Stop]
// stops the clients (kwok, scheduler, controller manager) before the API
// server and etcd, each bounded in time, and removes the directory.
//
// kwok plays the stages shipped in its module (node initialize and heartbeat,
// pod ready/complete/delete, volume provisioning through the default
// "kwok-volume" StorageClass) plus one of this package: Ingresses get the
// load-balancer address 127.0.0.1, so await logic that waits for an address
// finishes.
//
// A ControlPlane is safe for concurrent use; Stop is idempotent.
package controlplane
