// Package kit holds the end-to-end test of the Pulumi kit: a real
// `pulumi preview` and `pulumi up` of infra/kit's program through the
// Automation API (inline program, local file:// backend, passphrase secrets),
// with the kubernetes provider rendering manifests to a directory instead of
// talking to a cluster. The Pulumi CLI and the kubernetes provider plugin
// come from tests/tools/build-pulumi.sh.
//
// The test runs when CI is set or HUBKIT_KIT_E2E=1; in CI a missing tool is a
// failure, locally a skip.
package kit
