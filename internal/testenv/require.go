package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the environment variable CI is set (non-empty): then
// a missing prerequisite fails a test instead of skipping it.
func InCI() bool { return os.Getenv("CI") != "" }

// Require does nothing when err is nil. Otherwise it skips the test, or
// fails it when CI is set, with a message naming what is missing and why.
func Require(tb testing.TB, what string, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if InCI() {
		tb.Fatalf("%s missing and CI is set: %v", what, err)
	}
	tb.Skipf("%s missing: %v", what, err)
}

// LookPath returns the path of the named binary from PATH; without it the
// test is skipped, or failed when CI is set (see Require).
func LookPath(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	Require(tb, name, err)
	return p
}
