// Package pulumimock records what a Pulumi program registers under
// pulumi.WithMocks, so unit tests can assert on every resource's inputs
// without an engine. Recorder is safe for concurrent use (the SDK registers
// resources from several goroutines).
package pulumimock
