package hube2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

var (
	repoRoot string
	hubBin   string
	nodeBin  string
	setupErr error // why the end-to-end tests cannot run (node or its packages missing)
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// make test-short: unit tests only; no hub build, no node.
		os.Exit(m.Run())
	}
	code := func() int {
		root, err := testenv.FindRepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hube2e:", err)
			return 1
		}
		repoRoot = root
		node, err := testenv.FindNode("socket.io-client")
		nodeBin, setupErr = node.Bin, err
		dir, err := os.MkdirTemp("", "hube2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "hube2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		hubBin = filepath.Join(dir, "hub")
		gobin, err := exec.LookPath("go")
		if err != nil {
			// `go test` run by absolute path: use the toolchain that built us.
			//lint:ignore SA1019 the test binary runs on the machine that built it
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		args := []string{"build", "-o", hubBin}
		if raceBuild {
			args = append(args, "-race")
		}
		build := exec.Command(gobin, append(args, "./service/cmd/hub")...)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "hube2e: go build ./service/cmd/hub: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// needHub skips in -short mode (no hub binary is built then).
func needHub(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
}

// needNode skips (or, in CI, fails) when node or the client is missing.
func needNode(t *testing.T) {
	t.Helper()
	needHub(t)
	testenv.Require(t, "node or socket.io-client", setupErr)
}

// hubProc is one running hub binary.
type hubProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string // 127.0.0.1:port
	url  string // http://127.0.0.1:port

	logMu sync.Mutex
	logs  bytes.Buffer
	done  chan struct{}
	err   error // exit error, set before done closes
}

var listenRe = regexp.MustCompile(`"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)

// hubEnv returns the environment without any inherited hub settings.
func hubEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HUB_") || strings.HasPrefix(kv, "REDIS_URL=") {
			continue
		}
		out = append(out, kv)
	}
	if _, ok := env["HUB_ADDR"]; !ok {
		out = append(out, "HUB_ADDR=127.0.0.1:0")
	}
	if _, ok := env["HUB_DRAIN_WINDOW"]; !ok {
		out = append(out, "HUB_DRAIN_WINDOW=1s")
	}
	// A race-built hub exits 66 at the first data race (see hubProc checks).
	out = append(out, "GORACE=halt_on_error=1 exitcode=66")
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// startHub starts the hub binary and waits until /readyz answers 200.
func startHub(t *testing.T, env map[string]string) *hubProc {
	t.Helper()
	h := &hubProc{t: t, done: make(chan struct{})}
	h.cmd = exec.Command(hubBin)
	h.cmd.Env = hubEnv(env)
	stderr, err := h.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stdout = io.Discard
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			h.logMu.Lock()
			h.logs.WriteString(line + "\n")
			h.logMu.Unlock()
			if m := listenRe.FindStringSubmatch(line); m != nil && strings.Contains(line, "hub listening") {
				select {
				case addrCh <- m[1]:
				default:
				}
			}
		}
		h.err = h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			_ = h.cmd.Process.Kill()
			<-h.done
		}
		if strings.Contains(h.Logs(), "DATA RACE") {
			t.Errorf("data race in the hub")
		}
		if t.Failed() {
			t.Logf("hub logs:\n%s", h.Logs())
		}
	})
	select {
	case h.addr = <-addrCh:
	case <-h.done:
		t.Fatalf("hub exited at start: %v\n%s", h.err, h.Logs())
	case <-time.After(15 * time.Second):
		t.Fatalf("hub did not start listening:\n%s", h.Logs())
	}
	h.url = "http://" + h.addr
	waitUntil(t, "hub ready", func() bool {
		st, _ := httpGet(h.url + "/readyz")
		return st == 200
	})
	return h
}

// Logs returns the hub's stderr so far.
func (h *hubProc) Logs() string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.logs.String()
}

// Signal sends sig to the hub.
func (h *hubProc) Signal(sig os.Signal) {
	h.t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		h.t.Fatalf("signal hub: %v", err)
	}
}

// Wait waits up to d for the hub to exit and returns its exit code.
func (h *hubProc) Wait(d time.Duration) (int, bool) {
	select {
	case <-h.done:
		var ee *exec.ExitError
		if errors.As(h.err, &ee) {
			return ee.ExitCode(), true
		}
		if h.err != nil {
			return -1, true
		}
		return 0, true
	case <-time.After(d):
		return 0, false
	}
}

// Stop sends SIGTERM and waits for a clean exit.
func (h *hubProc) Stop() {
	h.t.Helper()
	h.Signal(syscall.SIGTERM)
	if code, ok := h.Wait(30 * time.Second); !ok || code != 0 {
		h.t.Errorf("hub stop: exited=%v code=%d", ok, code)
	}
}

func httpGet(url string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metric returns the value of one sample line of /metrics ("name{labels}").
func metric(t *testing.T, h *hubProc, sample string) float64 {
	t.Helper()
	st, body := httpGet(h.url + "/metrics")
	if st != 200 {
		t.Fatalf("/metrics: %d %s", st, body)
	}
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("metric %s: %q: %v", sample, line, err)
			}
			return v
		}
	}
	return 0 // a labelled counter not yet incremented is absent
}

// waitUntil polls cond every 10ms for up to 15s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, what, 15*time.Second, 10*time.Millisecond, cond)
}

// event is one line of puppet.js output.
type event struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	SID       string            `json:"sid"`
	Transport string            `json:"transport"`
	Recovered bool              `json:"recovered"`
	Message   string            `json:"message"`
	Data      json.RawMessage   `json:"data"`
	Reason    string            `json:"reason"`
	Event     string            `json:"event"`
	Seq       int               `json:"seq"`
	Args      []json.RawMessage `json:"args"`
	Attempt   int               `json:"attempt"`
}

// puppet is a node process running js/puppet.js: real socket.io-client
// sockets driven by JSON commands.
type puppet struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu     sync.Mutex
	events []event
	notify chan struct{} // closed and replaced on every new event
	seq    int
	done   chan struct{}
}

func startPuppet(t *testing.T) *puppet {
	t.Helper()
	needNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := &puppet{t: t, notify: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, nodeBin, filepath.Join(repoRoot, "tests", "hube2e", "js", "puppet.js"))
	p.cmd.Env = append(os.Environ(), "HUBKIT_ROOT="+repoRoot)
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				continue
			}
			p.mu.Lock()
			p.events = append(p.events, e)
			close(p.notify)
			p.notify = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cancel()
			<-p.done
		}
		_ = p.cmd.Wait()
		cancel()
		if t.Failed() {
			t.Logf("puppet events:\n%s\nstderr:\n%s", p.dump(), stderr.String())
		}
	})
	p.WaitFrom(0, "puppet ready", func(e event) bool { return e.Type == "ready" })
	return p
}

func (p *puppet) send(cmd map[string]any) {
	p.t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("puppet write: %v", err)
	}
}

// Connect opens socket id to url and waits for its connect (or
// connect_error when wantErr) event.
func (p *puppet) Connect(id, url string, opts map[string]any) event {
	p.t.Helper()
	from := p.Len()
	if opts == nil {
		opts = map[string]any{}
	}
	p.send(map[string]any{"op": "connect", "id": id, "url": url, "opts": opts})
	e, _ := p.WaitFrom(from, id+" connect", func(e event) bool {
		return e.ID == id && (e.Type == "connect" || e.Type == "connect_error")
	})
	return e
}

// Emit sends an event without ack.
func (p *puppet) Emit(id, name string, args ...any) {
	p.t.Helper()
	p.send(map[string]any{"op": "emit", "id": id, "event": name, "args": args})
}

// Call sends an event with an ack and returns the ack's first argument.
func (p *puppet) Call(id, name string, args ...any) map[string]any {
	p.t.Helper()
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	from := p.Len()
	p.send(map[string]any{"op": "emit", "id": id, "event": name, "args": args, "ack": true, "seq": seq})
	e, _ := p.WaitFrom(from, fmt.Sprintf("%s ack of %s", id, name), func(e event) bool {
		return e.ID == id && e.Type == "ack" && e.Seq == seq
	})
	if len(e.Args) == 0 {
		p.t.Fatalf("%s: ack without arguments", name)
	}
	var v map[string]any
	if err := json.Unmarshal(e.Args[0], &v); err != nil {
		p.t.Fatalf("%s: ack %s: %v", name, e.Args[0], err)
	}
	return v
}

// Close closes socket id.
func (p *puppet) Close(id string) {
	p.t.Helper()
	p.send(map[string]any{"op": "close", "id": id})
}

// Len returns the number of events so far.
func (p *puppet) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// Events returns the events of socket id (all when id is "").
func (p *puppet) Events(id string) []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []event
	for _, e := range p.events {
		if id == "" || e.ID == id {
			out = append(out, e)
		}
	}
	return out
}

// WaitFrom waits for the first event at index >= from matching pred.
func (p *puppet) WaitFrom(from int, what string, pred func(event) bool) (event, int) {
	p.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		p.mu.Lock()
		for i := from; i < len(p.events); i++ {
			if pred(p.events[i]) {
				e := p.events[i]
				p.mu.Unlock()
				return e, i
			}
		}
		from = max(from, len(p.events))
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.done:
			p.t.Fatalf("puppet exited while waiting for %s", what)
		case <-timeout:
			p.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// payload returns the n payload arguments of an event. With connection
// state recovery on, the hub appends the packet's offset (a string) as one
// more argument, as Node's socket.io does; it is checked and dropped.
func payload(t *testing.T, e event, n int) []string {
	t.Helper()
	switch {
	case len(e.Args) == n:
	case len(e.Args) == n+1 && strings.HasPrefix(string(e.Args[n]), `"`):
	default:
		t.Fatalf("event %s: %d arguments %s, want %d (+ offset)", e.Event, len(e.Args), e.Args, n)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = string(e.Args[i])
	}
	return out
}

func (p *puppet) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, e := range p.events {
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// failoverProxy is a TCP load balancer for the drain test: every new
// connection goes to the first backend that accepts it.
type failoverProxy struct {
	ln       net.Listener
	backends []string
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func startProxy(t *testing.T, backends ...string) *failoverProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &failoverProxy{ln: ln, backends: backends, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

func (p *failoverProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *failoverProxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.conns == nil {
			return false
		}
		p.conns[c] = struct{}{}
	} else if p.conns != nil {
		delete(p.conns, c)
	}
	return true
}

func (p *failoverProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *failoverProxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	var up net.Conn
	for _, b := range p.backends {
		var err error
		if up, err = net.DialTimeout("tcp", b, time.Second); err == nil {
			break
		}
	}
	if up == nil {
		return
	}
	defer up.Close()
	if !p.track(c, true) || !p.track(up, true) {
		return
	}
	defer p.track(c, false)
	defer p.track(up, false)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	// One side ended: close both so the other copy ends too.
	c.Close()
	up.Close()
	<-done
}

// DropAll cuts every proxied connection (a network blip); the proxy keeps
// accepting new ones.
func (p *failoverProxy) DropAll() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (p *failoverProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// runHubOnce runs the hub expecting it to exit at once; it returns its
// combined output and exit error.
func runHubOnce(env map[string]string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hubBin)
	cmd.Env = hubEnv(env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
