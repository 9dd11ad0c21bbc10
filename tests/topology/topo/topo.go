// Package topo starts the production topology on loopback for tests: a real
// redis-server, N hub replicas (the real service/cmd/hub binary, streams
// mode) and HAProxy in front of them with TLS (a certificate generated per
// test), cookie-inserted affinity (HUBKIT_AFFINITY) and websocket support,
// as tests/topology/cluster.sh does by hand. Every process is started on a
// free loopback port and stopped by PID at cleanup; replicas can be killed,
// drained (SIGTERM) and restarted.
//
// It also runs Node scripts with the repo's tests/node/node_modules.
//
// When redis-server, haproxy or node is missing, the calling test is
// skipped, unless CI is set, in which case it fails (internal/testenv's
// rule); under -short it is skipped.
package topo

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// Need returns the path of a binary on PATH, skipping the test when it is
// missing (failing when CI is set) and under -short. For "node" it also
// needs socket.io-client installed (see Node).
func Need(t testing.TB, bin string) string {
	t.Helper()
	if bin == "node" {
		return Node(t).Bin
	}
	skipShort(t)
	return testenv.LookPath(t, bin)
}

// Node returns node with the repo's tests/node/node_modules (socket.io-client
// installed); its Env sets NODE_PATH for the scripts in tests/topology/js.
// Same skip rules as Need.
func Node(t testing.TB) testenv.NodeJS {
	t.Helper()
	skipShort(t)
	return testenv.Node(t, "socket.io-client")
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no processes")
	}
}

var (
	buildOnce sync.Once
	hubBin    string
	buildErr  error
)

// HubBinary builds service/cmd/hub once per test process (with -race when
// HUBKIT_RACE_HUB is set; the replicas then exit on the first data race).
func HubBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "topo-hub-")
		if err != nil {
			buildErr = err
			return
		}
		hubBin = filepath.Join(dir, "hub")
		args := []string{"build", "-o", hubBin}
		if os.Getenv("HUBKIT_RACE_HUB") != "" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./service/cmd/hub")...)
		if cmd.Dir, buildErr = testenv.FindRepoRoot(); buildErr != nil {
			return
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build hub: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return hubBin
}

// Options configures Start.
type Options struct {
	// Replicas is the number of hub replicas (default 3).
	Replicas int
	// Env is added to every replica's environment (HUB_RECOVERY_WINDOW,
	// HUB_DRAIN_WINDOW, ...). HUB_API_KEY is "k" unless set.
	Env map[string]string
	// NoProxy skips HAProxy.
	NoProxy bool
}

// Topology is a running Redis + replicas (+ HAProxy).
type Topology struct {
	t         testing.TB
	Redis     *testenv.Redis
	Hubs      []*Hub
	dir       string
	proxy     *Proc
	ProxyPort int
	// CertPEM is the proxy's certificate (for clients that verify it).
	CertPEM []byte
}

// Hub is one replica.
type Hub struct {
	ID   string // HUB_REPLICA_ID: hub1, hub2, ...
	Port int
	env  []string
	bin  string
	t    testing.TB

	mu   sync.Mutex
	proc *Proc
}

// URL is the replica's direct http URL.
func (h *Hub) URL() string { return "http://127.0.0.1:" + strconv.Itoa(h.Port) }

// Start starts the topology and waits until every replica is ready and,
// with the proxy, until HAProxy answers.
func Start(t testing.TB, o Options) *Topology {
	t.Helper()
	skipShort(t)
	if !o.NoProxy {
		Need(t, "haproxy")
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	top := &Topology{t: t, Redis: testenv.RedisServer(t), dir: t.TempDir()}
	bin := HubBinary(t)
	for i := 1; i <= o.Replicas; i++ {
		h := &Hub{ID: "hub" + strconv.Itoa(i), Port: testenv.FreePort(t), bin: bin, t: t}
		env := map[string]string{"HUB_API_KEY": "k", "HUB_LOG_LEVEL": "warn"}
		for k, v := range o.Env {
			env[k] = v
		}
		env["HUB_ADDR"] = "127.0.0.1:" + strconv.Itoa(h.Port)
		env["REDIS_URL"] = top.Redis.URL()
		env["HUB_REPLICA_ID"] = h.ID
		if os.Getenv("HUBKIT_RACE_HUB") != "" {
			env["GORACE"] = "halt_on_error=1 exitcode=66"
		}
		for k, v := range env {
			h.env = append(h.env, k+"="+v)
		}
		top.Hubs = append(top.Hubs, h)
		h.Start()
	}
	for _, h := range top.Hubs {
		h.WaitReady()
	}
	if !o.NoProxy {
		top.startProxy()
	}
	return top
}

// Start (re)starts the replica's process.
func (h *Hub) Start() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.proc = StartProc(h.t, h.ID, os.Environ(), h.env, h.bin)
}

// WaitReady polls /readyz until 200 (20s at most).
func (h *Hub) WaitReady() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := testenv.WaitHTTP(ctx, h.URL()+"/readyz"); err != nil {
		h.t.Fatalf("%s not ready: %v\n%s", h.ID, err, h.Proc().Output())
	}
}

// Proc returns the current process.
func (h *Hub) Proc() *Proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc
}

// Kill sends SIGKILL and waits for the process to be gone.
func (h *Hub) Kill() { h.Proc().Signal(syscall.SIGKILL) }

// Term sends SIGTERM and waits (up to timeout) for the exit; it returns
// the exit error (nil for exit 0).
func (h *Hub) Term(timeout time.Duration) error {
	p := h.Proc()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v after SIGTERM", h.ID, timeout)
	}
}

// ProxyURL is the HAProxy https URL.
func (top *Topology) ProxyURL() string { return "https://localhost:" + strconv.Itoa(top.ProxyPort) }

func (top *Topology) startProxy() {
	t := top.t
	t.Helper()
	certPEM, keyPEM := selfSigned(t)
	top.CertPEM = certPEM
	pemPath := filepath.Join(top.dir, "proxy.pem")
	if err := os.WriteFile(pemPath, append(append([]byte{}, certPEM...), keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	top.ProxyPort = testenv.FreePort(t)
	var servers strings.Builder
	for _, h := range top.Hubs {
		fmt.Fprintf(&servers, "    server %s 127.0.0.1:%d check inter 250ms fall 2 rise 1 cookie %s\n", h.ID, h.Port, h.ID)
	}
	cfg := ProxyConfig(top.ProxyPort, pemPath, servers.String())
	cfgPath := filepath.Join(top.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	top.proxy = StartProc(t, "haproxy", os.Environ(), nil, "haproxy", "-f", cfgPath, "-db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testenv.WaitTCP(ctx, "127.0.0.1:"+strconv.Itoa(top.ProxyPort)); err != nil {
		t.Fatalf("haproxy did not listen: %v\n%s", err, top.proxy.Output())
	}
}

// ProxyConfig is the HAProxy configuration of the topology: TLS
// termination, cookie-inserted affinity, websocket tunnels, health checks
// on /readyz, and redispatch when a replica is gone. cluster.sh writes the
// same.
func ProxyConfig(port int, pemPath, servers string) string {
	return fmt.Sprintf(`global
    maxconn 8000
defaults
    mode http
    option http-server-close
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend hubkit
    bind 127.0.0.1:%d ssl crt %s alpn http/1.1
    default_backend hubs
backend hubs
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    cookie HUBKIT_AFFINITY insert indirect nocache httponly secure
%s`, port, pemPath, servers)
}

func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// Publish posts one event to room through replica h's publish API.
func Publish(ctx context.Context, h *Hub, room, event, data string) error {
	body := fmt.Sprintf(`{"room":%q,"event":%q,"data":%s}`, room, event, data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL()+"/api/v1/publish", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("publish: HTTP %d", res.StatusCode)
	}
	return nil
}

// Proc is a child process whose output is kept.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error

	mu    sync.Mutex
	lines []string
	// OnLine, when set before output arrives, sees every stdout line.
	onLine func(string)
}

// StartProc starts a process (env appended to base), keeps its output and
// kills it by PID at cleanup.
func StartProc(t testing.TB, name string, base, env []string, bin string, args ...string) *Proc {
	t.Helper()
	return StartProcLines(t, name, base, env, nil, bin, args...)
}

// StartProcLines is StartProc with a callback for each stdout line.
func StartProcLines(t testing.TB, name string, base, env []string, onLine func(string), bin string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append([]string{}, base...), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{name: name, cmd: cmd, done: make(chan struct{}), onLine: onLine}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := sc.Text()
			if p.onLine != nil {
				p.onLine(line)
			}
			p.mu.Lock()
			p.lines = append(p.lines, line)
			if len(p.lines) > 2000 {
				p.lines = p.lines[1000:]
			}
			p.mu.Unlock()
		}
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("--- %s output (tail):\n%s", name, p.Output())
		}
	})
	return p
}

// Signal sends sig to the process (by PID) and, for SIGKILL, waits for it
// to be gone.
func (p *Proc) Signal(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	}
}

// Done is closed when the process exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stdin is not kept: Node scripts are driven through their arguments.

// Output returns the last lines of output.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.lines)
	from := max(0, n-200)
	return strings.Join(p.lines[from:], "\n")
}
