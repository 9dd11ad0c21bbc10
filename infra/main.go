// Command infra is the hubkit Pulumi program (Pulumi.yaml: main: infra).
// It only hands the program in infra/kit to the Pulumi engine: kit.Program
// reads the typed stack config and wires the Image, Redis, Hub and Edge
// components. The same function runs inline in the Automation API test.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hubkit/hubkit/infra/kit"
)

func main() {
	pulumi.Run(kit.Program)
}
