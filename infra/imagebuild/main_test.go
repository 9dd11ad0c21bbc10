package imagebuild

import (
	"testing"

	"go.uber.org/goleak"
)

// Builds run `go build` and pushes talk HTTP: neither may leave goroutines behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
