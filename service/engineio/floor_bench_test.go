//go:build linux

package engineio

import (
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackWriteFloor is the kernel floor of one delivery that every
// server shares (Node included): one write(2) of a 120-byte websocket frame
// to one of 1,000 loopback TCP connections in turn, whose readers are mostly
// idle when the frame lands (as in a fan-out). cpu-ns/write is the CPU time
// of the writing thread (user+system, RUSAGE_THREAD); on loopback it includes
// the receive-side TCP processing and the reader's wake-up.
//
// Two ways to write: "conn" is net.Conn.Write (write(2) through the
// poller, as an ordinary Go server does), "send" is writeNow (the raw
// send(2) this package uses for data frames).
//
// Run: go test -run '^$' -bench LoopbackWriteFloor -benchtime 200000x -count 3 ./service/engineio/
func BenchmarkLoopbackWriteFloor(b *testing.B) {
	b.Run("conn", func(b *testing.B) { loopbackFloor(b, false) })
	b.Run("send", func(b *testing.B) { loopbackFloor(b, true) })
}

func loopbackFloor(b *testing.B, send bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	const n = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		var readers []chan struct{}
		for len(readers) < n {
			c, err := ln.Accept()
			if err != nil {
				break
			}
			r := make(chan struct{})
			readers = append(readers, r)
			go func() { defer close(r); _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
		for _, r := range readers {
			<-r
		}
	}()
	conns := make([]net.Conn, n)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			b.Fatal(err)
		}
	}
	fds := make([]uintptr, n)
	for i, c := range conns {
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			b.Fatal(err)
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = fd }); err != nil {
			b.Fatal(err)
		}
	}
	frame := make([]byte, 120)
	runtime.LockOSThread()
	t0 := threadCPU()
	i := 0
	for b.Loop() {
		var err error
		if send {
			_, err = writeNow(fds[i%n], frame)
		} else {
			_, err = conns[i%n].Write(frame)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N), "cpu-ns/write")
	runtime.UnlockOSThread()
	for _, c := range conns {
		c.Close()
	}
	<-done
}

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
