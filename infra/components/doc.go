// Package components holds the kit's Pulumi ComponentResources, one per
// concern: Image (build and ship the hub), Redis (in-cluster StatefulSet or an
// external URL), Hub (Deployment, Service, PDB, Secret) and Edge (Ingress,
// TLS, session affinity).
//
// Every component follows one template: a struct embedding
// pulumi.ResourceState, NewX(ctx, name, args, opts...) that nil-checks args,
// parents every child to the component, and ends with RegisterResourceOutputs.
// Every Kubernetes object gets an explicit metadata.name (no auto-naming
// suffix) so previews and diffs stay readable and names stay stable.
//
// Constructors are called from one Pulumi program goroutine; they keep no
// package-level state.
package components
