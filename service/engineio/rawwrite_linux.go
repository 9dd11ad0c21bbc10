package engineio

import (
	"syscall"
	"unsafe"
)

// rawWriteMax bounds the writes made as raw system calls: a raw call keeps
// its P for the whole copy into the socket buffer, which delays a
// stop-the-world by as long, so large writes go through syscall.Write.
const rawWriteMax = 16 << 10

// nonblocking reports whether fd has O_NONBLOCK set (sockets from package
// net always do; one handed over by os.File.Fd may not).
func nonblocking(fd uintptr) bool {
	fl, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	return errno == 0 && fl&syscall.O_NONBLOCK != 0
}

// writeNow is one write(2) on a non-blocking socket. A write of up to
// rawWriteMax bytes runs as a raw system call: it cannot block, so there is
// nothing to gain from telling the scheduler, and telling it costs an
// entersyscall/exitsyscall pair per call and lets sysmon hand the P to
// another thread (a futex wake-up) during a fan-out of thousands of writes.
func writeNow(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > rawWriteMax {
		return syscall.Write(int(fd), p)
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
