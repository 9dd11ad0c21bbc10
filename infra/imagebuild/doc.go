// Package imagebuild turns a Go main package into an OCI image without a
// Docker daemon, reproducibly, and pushes it to a registry.
//
// Reproducible means: the same source tree and the same Go toolchain give the
// same image digest on any machine and in any checkout directory. The binary is
// built static (CGO_ENABLED=0) with -trimpath, -buildvcs=false and an empty
// build ID, from a scrubbed environment (GOFLAGS, GOEXPERIMENT and friends are
// cleared so a developer's shell cannot leak into the digest); the single layer
// is a tar with fixed owners, modes and timestamps; the config carries no
// creation time. A digest therefore changes exactly when the code (or go.mod,
// go.sum, or the toolchain) changes, which is what makes a `pulumi preview`
// show an image change only when the hub changed.
//
// Build and Push are safe for concurrent use; they share no state.
package imagebuild
