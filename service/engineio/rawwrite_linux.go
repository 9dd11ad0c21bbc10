package engineio

import (
	"syscall"
	"unsafe"
)

// rawWriteMax bounds the sends made as raw system calls: a raw call keeps
// its P for the whole copy into the socket buffer, which delays a
// stop-the-world by as long, so larger writes go through syscall.Write.
const rawWriteMax = 16 << 10

// writeNow sends p on a socket without waiting. Up to rawWriteMax bytes it
// is one send(2) with MSG_DONTWAIT, made as a raw system call: it cannot
// block, so there is nothing to gain from telling the scheduler, and telling
// it costs an entersyscall/exitsyscall pair per call and lets sysmon hand the
// P to another thread (a futex wake-up) during a fan-out of thousands of
// sends. send(2) skips the VFS layer that write(2) goes through (≈3 % less
// CPU per 120-byte frame on loopback, BenchmarkLoopbackWriteFloor).
func writeNow(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) <= rawWriteMax {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
			syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case syscall.ENOTSOCK: // a syscall.Conn that is not a socket
		default:
			return 0, errno
		}
	}
	return syscall.Write(int(fd), p)
}
