// Package kit is the hubkit Pulumi program: Program reads the stack's typed,
// validated configuration (Parse) and wires the components of
// infra/components. infra/main.go runs it under pulumi.Run; the Automation
// API test in tests/kit runs the very same function as an inline program.
//
// Parse is pure and safe for concurrent use; Program runs on the Pulumi
// program goroutine.
package kit
