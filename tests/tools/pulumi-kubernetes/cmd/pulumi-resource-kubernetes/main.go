// Command pulumi-resource-kubernetes serves the Pulumi kubernetes resource
// provider built from the Go module proxy. build-pulumi.sh generates the two
// embedded JSON files next to this file (in a scratch copy) before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
