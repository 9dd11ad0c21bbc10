// Package redistest starts a real redis-server for tests: one process per
// call, on a free loopback port, with persistence off and a temporary
// directory, stopped by PID at cleanup. It can be stopped and started again
// on the same port to test reconnection.
//
// When the redis-server binary is missing the test is skipped, unless the
// CI environment variable is set, in which case it fails.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	bin    string
	dir    string
	port   int
	ownDir bool
	extra  []string // more redis-server arguments

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Binary returns the redis-server path, skipping (or failing in CI) the test
// when there is none. It also skips under -short (unit tests only).
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs a redis-server")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/redis-server"); statErr == nil {
			return "/usr/bin/redis-server"
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found and CI is set: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	return bin
}

// Start starts a redis-server and registers its stop with t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir(), port: port}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// ErrNoBinary is returned by StartMain when redis-server is missing and CI
// is unset: the caller should skip its Redis tests.
var ErrNoBinary = errors.New("redistest: redis-server not found")

// StartMain starts a server for a whole test package (from TestMain). The
// caller must call Close. Without a redis-server binary it returns
// ErrNoBinary, or a plain error when CI is set.
func StartMain() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/redis-server"); statErr == nil {
			bin = "/usr/bin/redis-server"
		} else if os.Getenv("CI") != "" {
			return nil, fmt.Errorf("redistest: redis-server not found and CI is set: %w", err)
		} else {
			return nil, ErrNoBinary
		}
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, port: port, ownDir: true}
	if err := s.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Close stops the server and removes a directory StartMain created.
func (s *Server) Close() {
	s.Stop()
	if s.ownDir {
		_ = os.RemoveAll(s.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is a redis:// URL for REDIS_URL.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Start (re)starts the server on its port and waits until it answers PING.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning"}
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start: %w", err)
	}
	s.cmd = cmd
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if err := Ping(ctx, s.Addr()); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			s.cmd = nil
			return fmt.Errorf("redistest: redis-server on %s did not answer", s.Addr())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills the server (by its PID) and waits for it to exit. Clients see
// their connections drop, as when Redis crashes.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Ping sends one RESP PING to addr and checks the +PONG.
func Ping(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redistest: unexpected reply %q", line)
	}
	return nil
}
