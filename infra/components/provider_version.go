package components

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// kubernetesSDK is the module whose version selects the default kubernetes
// provider plugin, and kubernetesSDKVersion the version go.mod requires
// (a unit test keeps the two in step).
const (
	kubernetesSDK        = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
	kubernetesSDKVersion = "4.32.0"
)

// kubernetesVersion returns the resource option that pins the default
// kubernetes provider to the SDK's version. Typed resources of the SDK add it
// themselves; apiextensions.CustomResource does not, and without it the
// engine creates a second, unversioned default provider on the first `up`
// and deletes it again on the next one.
func kubernetesVersion() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Version(kubernetesSDKVersion)}
}
