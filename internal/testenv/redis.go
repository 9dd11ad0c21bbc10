package testenv

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

// redisBin is where the machines that run the tests install redis-server,
// used when it is not on PATH.
const redisBin = "/usr/bin/redis-server"

// Redis is a private redis-server on 127.0.0.1 with persistence off
// (--save ” --appendonly no) and its own directory. It can be stopped and
// started again on the same port, as when Redis crashes and comes back.
type Redis struct {
	bin    string
	dir    string
	port   int
	extra  []string
	ownDir bool // StartRedis made dir; Close removes it

	mu  sync.Mutex
	cmd *exec.Cmd
}

// RedisOption is a per-call knob of RedisServer and StartRedis.
type RedisOption func(*Redis)

// RedisPort runs the server on port instead of a free port picked by the
// kernel (a Redis Cluster node needs port+10000 free too).
func RedisPort(port int) RedisOption { return func(r *Redis) { r.port = port } }

// RedisArgs adds redis-server arguments after the standard ones (for
// example "--cluster-enabled", "yes").
func RedisArgs(args ...string) RedisOption {
	return func(r *Redis) { r.extra = append(r.extra, args...) }
}

// ErrNoRedis is returned by StartRedis when no redis-server is installed and
// CI is unset: the caller's Redis tests should skip.
var ErrNoRedis = errors.New("testenv: redis-server not found")

// RedisBinary returns redis-server from PATH, else /usr/bin/redis-server.
func RedisBinary() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin, nil
	}
	if _, statErr := os.Stat(redisBin); statErr == nil {
		return redisBin, nil
	}
	return "", err
}

// RedisServer starts a redis-server for the test, waits until it answers
// PING (10s at most) and stops it by PID at cleanup. It skips under -short
// (unit tests only); without a redis-server binary it skips, or fails when
// CI is set (see Require).
func RedisServer(tb testing.TB, opts ...RedisOption) *Redis {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: needs a redis-server")
	}
	bin, err := RedisBinary()
	Require(tb, "redis-server", err)
	r := &Redis{bin: bin, dir: tb.TempDir()}
	for _, o := range opts {
		o(r)
	}
	if r.port == 0 {
		r.port = FreePort(tb)
	}
	if err := r.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Stop)
	return r
}

// StartRedis starts a redis-server for a whole test package, from TestMain;
// the caller must Close it. Without a redis-server binary it returns
// ErrNoRedis, or another error when CI is set.
func StartRedis(opts ...RedisOption) (*Redis, error) {
	bin, err := RedisBinary()
	if err != nil {
		if InCI() {
			return nil, fmt.Errorf("testenv: redis-server missing and CI is set: %w", err)
		}
		return nil, ErrNoRedis
	}
	dir, err := os.MkdirTemp("", "testenv-redis-")
	if err != nil {
		return nil, err
	}
	r := &Redis{bin: bin, dir: dir, ownDir: true}
	for _, o := range opts {
		o(r)
	}
	if r.port == 0 {
		if r.port, err = FindFreePort(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := r.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// Port is the TCP port on 127.0.0.1.
func (r *Redis) Port() int { return r.port }

// Addr is 127.0.0.1:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL is redis://127.0.0.1:port, for REDIS_URL.
func (r *Redis) URL() string { return "redis://" + r.Addr() }

// Start (re)starts the server on its port and waits (10s at most) until it
// answers PING. It does nothing while the server runs.
func (r *Redis) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning"}
	cmd := exec.Command(r.bin, append(args, r.extra...)...)
	cmd.Dir = r.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testenv: start redis-server: %w", err)
	}
	r.cmd = cmd
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := ping(ctx, r.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			r.cmd = nil
			return fmt.Errorf("testenv: redis-server on %s did not answer PING: %v", r.Addr(), err)
		case <-time.After(pollEvery):
		}
	}
}

// Stop kills the server by its PID and waits for it to exit; clients see
// their connections drop. It does nothing when the server is stopped.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Close stops the server and removes the directory StartRedis made.
func (r *Redis) Close() {
	r.Stop()
	if r.ownDir {
		_ = os.RemoveAll(r.dir)
	}
}

// ping sends one RESP PING to addr and checks for +PONG.
func ping(ctx context.Context, addr string) error {
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
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}
