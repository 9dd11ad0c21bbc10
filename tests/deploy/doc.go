// Package deploy holds the end-to-end deploy test of the kit: a real
// `pulumi up` of the program in infra/ through the Automation API against a
// real, local Kubernetes control plane (tests/tools/controlplane), with the
// hub image pushed to an OCI registry on loopback.
//
// The test needs the control plane binaries (tests/tools/build-k8s.sh) and
// the Pulumi CLI plus kubernetes provider plugin (tests/tools/build-pulumi.sh).
// It runs when HUBKIT_DEPLOY_TEST=1 or CI is set; without its tools it skips,
// except under CI, where it fails.
package deploy
