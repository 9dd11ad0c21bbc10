package testenv

import (
	"testing"
	"time"
)

// Eventually calls cond every `every` until it returns true, and fails the
// test with "timed out waiting for <what>" when timeout passes first. cond
// runs on the calling goroutine.
func Eventually(tb testing.TB, what string, timeout, every time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s (%v)", what, timeout)
		}
		time.Sleep(every)
	}
}
