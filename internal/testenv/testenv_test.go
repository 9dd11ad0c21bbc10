package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeTB records what a helper did to the test: Skip* and Fatal* end the
// goroutine as the real ones do.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) { f.Skip(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// run calls fn with a fakeTB on its own goroutine and returns the record.
func run(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRequire(t *testing.T) {
	missing := errors.New("exec: not found")
	tests := []struct {
		name       string
		ci         string
		err        error
		skip, fail bool
		msgHas     []string
	}{
		{name: "present, CI unset", ci: "", err: nil},
		{name: "present, CI set", ci: "true", err: nil},
		{name: "missing, CI unset skips", ci: "", err: missing, skip: true, msgHas: []string{"widget missing", "exec: not found"}},
		{name: "missing, CI=true fails", ci: "true", err: missing, fail: true, msgHas: []string{"widget missing and CI is set", "exec: not found"}},
		{name: "missing, CI=1 fails", ci: "1", err: missing, fail: true, msgHas: []string{"CI is set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci) // no t.Parallel: the environment is process-wide
			f := run(func(tb testing.TB) { Require(tb, "widget", tt.err) })
			if f.skipped != tt.skip || f.failed != tt.fail {
				t.Fatalf("skipped=%v failed=%v, want %v %v (%q)", f.skipped, f.failed, tt.skip, tt.fail, f.msg)
			}
			for _, s := range tt.msgHas {
				if !strings.Contains(f.msg, s) {
					t.Errorf("message %q lacks %q", f.msg, s)
				}
			}
		})
	}
}

func TestLookPath(t *testing.T) {
	t.Setenv("CI", "")
	var got string
	f := run(func(tb testing.TB) { got = LookPath(tb, "sh") })
	if f.skipped || f.failed || !filepath.IsAbs(got) {
		t.Fatalf("sh: %q, skipped=%v failed=%v %q", got, f.skipped, f.failed, f.msg)
	}
	f = run(func(tb testing.TB) { LookPath(tb, "testenv-no-such-binary") })
	if !f.skipped || !strings.Contains(f.msg, "testenv-no-such-binary missing") {
		t.Fatalf("missing binary without CI: skipped=%v %q", f.skipped, f.msg)
	}
	t.Setenv("CI", "true")
	f = run(func(tb testing.TB) { LookPath(tb, "testenv-no-such-binary") })
	if !f.failed {
		t.Fatalf("missing binary with CI did not fail: %q", f.msg)
	}
}

func TestRepoRoot(t *testing.T) {
	t.Parallel()
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "doc.go")); err != nil {
		t.Fatalf("root %s does not hold internal/testenv: %v", root, err)
	}
}

func TestDeclares(t *testing.T) {
	t.Parallel()
	tests := []struct {
		gomod string
		want  bool
	}{
		{"module github.com/hubkit/hubkit\n\ngo 1.26\n", true},
		{"// c\nmodule github.com/hubkit/hubkit\r\n", true},
		{"module github.com/hubkit/hubkit/tests/tools/k8s\n", false},
		{"go 1.26\n", false},
	}
	for _, tt := range tests {
		if got := declares([]byte(tt.gomod), module); got != tt.want {
			t.Errorf("declares(%q) = %v, want %v", tt.gomod, got, tt.want)
		}
	}
}

func TestFindNodeNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, err := FindNode("socket.io-client", "testenv-no-such-package")
	if err == nil {
		t.Fatal("no error for a package that is not installed")
	}
	if _, lookErr := exec.LookPath("node"); lookErr != nil {
		if !strings.Contains(err.Error(), "node not on PATH") {
			t.Fatalf("error %q does not name node", err)
		}
		return
	}
	if !strings.Contains(err.Error(), "tests/node/node_modules/testenv-no-such-package") || strings.Contains(err.Error(), "socket.io-client") {
		t.Fatalf("error %q should name exactly the missing package", err)
	}
}

// TestNodeResolvesModules runs the real node with Env: a script outside
// tests/node requires socket.io-client through NODE_PATH.
func TestNodeResolvesModules(t *testing.T) {
	t.Parallel()
	n := Node(t, "socket.io-client")
	cmd := exec.Command(n.Bin, "-e", `console.log(typeof require("socket.io-client").io)`)
	cmd.Dir = t.TempDir()
	cmd.Env = n.Env()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "function" {
		t.Fatalf("node: %v %q", err, out)
	}
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	p := FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatalf("port %d is not free: %v", p, err)
	}
	_ = l.Close()
}

func TestWaitTCP(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitTCP(ctx, addr); err != nil {
		t.Fatalf("listening %s: %v", addr, err)
	}
	_ = l.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := WaitTCP(short, addr); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("closed %s: %v, want an error naming it", addr, err)
	}
}

func TestWaitHTTP(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ready.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, ready.URL); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d requests, want 3 (two 503s, then 200)", n)
	}
	never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer never.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := WaitHTTP(short, never.URL); err == nil || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("never ready: %v, want the last status", err)
	}
}

func TestEventually(t *testing.T) {
	t.Parallel()
	n := 0
	f := run(func(tb testing.TB) {
		Eventually(tb, "three calls", 5*time.Second, time.Millisecond, func() bool { n++; return n == 3 })
	})
	if f.failed || n != 3 {
		t.Fatalf("failed=%v after %d calls", f.failed, n)
	}
	f = run(func(tb testing.TB) {
		Eventually(tb, "never", 20*time.Millisecond, time.Millisecond, func() bool { return false })
	})
	if !f.failed || !strings.Contains(f.msg, "timed out waiting for never") {
		t.Fatalf("failed=%v %q", f.failed, f.msg)
	}
}

func TestFirstLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "{\"port\":1}\nmore\n", want: "{\"port\":1}"},
		{in: "crlf\r\n", want: "crlf"},
		{in: "no newline", want: "no newline"},
		{in: "", err: true},
	}
	for _, tt := range tests {
		got, err := FirstLine(strings.NewReader(tt.in), time.Second)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("FirstLine(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestFirstLineTimesOutAndDrains(t *testing.T) {
	t.Parallel()
	r, w := io.Pipe()
	if _, err := FirstLine(r, 20*time.Millisecond); err == nil {
		t.Fatal("no error on a silent reader")
	}
	// The reader goroutine still drains: writes after the first line never
	// block, and it ends with the writer.
	if _, err := w.Write([]byte("late\nand more\n")); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
}

func TestStartCmdStopsAtCleanup(t *testing.T) {
	t.Parallel()
	sleep := LookPath(t, "sleep")
	var cmd *exec.Cmd
	t.Run("inner", func(t *testing.T) {
		cmd = exec.Command(sleep, "60")
		StartCmd(t, cmd)
	})
	if cmd.ProcessState == nil {
		t.Fatal("process not waited for at cleanup")
	}
}

// TestRedisServer starts a real redis-server, restarts it on its port and
// checks the arguments reach it.
func TestRedisServer(t *testing.T) {
	t.Parallel()
	r := RedisServer(t, RedisArgs("--maxclients", "77"))
	if want := fmt.Sprintf("redis://127.0.0.1:%d", r.Port()); r.URL() != want {
		t.Fatalf("URL %s, want %s", r.URL(), want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got := command(t, r.Addr(), "CONFIG", "GET", "maxclients"); !strings.Contains(got, "77") {
		t.Fatalf("CONFIG GET maxclients: %q", got)
	}
	r.Stop()
	if err := ping(ctx, r.Addr()); err == nil {
		t.Fatal("PING answered after Stop")
	}
	r.Stop() // idempotent
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ping(ctx, r.Addr()); err != nil {
		t.Fatalf("PING after restart on the same port: %v", err)
	}
}

func TestStartRedisClose(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: needs a redis-server")
	}
	r, err := StartRedis()
	if errors.Is(err, ErrNoRedis) {
		Require(t, "redis-server", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ping(ctx, r.Addr()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(r.dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s left behind: %v", r.dir, err)
	}
	if err := ping(ctx, r.Addr()); err == nil {
		t.Fatal("PING answered after Close")
	}
}

// command sends one RESP command and returns the raw reply.
func command(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}
