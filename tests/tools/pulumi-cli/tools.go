//go:build tools

// Package tools pins the Pulumi CLI module for build-pulumi.sh. The CLI itself is
// built with `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from this module.
package tools
