//go:build !linux

package engineio

import "syscall"

// writeNow writes p to a non-blocking socket (package net makes every socket
// non-blocking); only Linux builds use send(2) as a raw system call.
func writeNow(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
