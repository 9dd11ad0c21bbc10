//go:build !linux

package engineio

import "syscall"

// nonblocking reports whether writeNow may be used on fd: only Linux
// builds take the raw path, so elsewhere every write waits in the poller.
func nonblocking(uintptr) bool { return false }

func writeNow(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
