package hub

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubkit/hubkit/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSockets is a unit-test double of the Socket.IO stack.
type fakeSockets struct {
	recordingPublisher
	mu       sync.Mutex
	closedAt int64 // sequence number of Close (0 = open)
	seq      *atomic.Int64
}

// fakeConn records when it is closed.
type fakeConn struct {
	seq    *atomic.Int64
	closed atomic.Int64 // sequence number, 0 = open
}

func (c *fakeConn) Close() error {
	c.closed.CompareAndSwap(0, c.seq.Add(1))
	return nil
}

func newFakeSockets() *fakeSockets { return &fakeSockets{seq: new(atomic.Int64)} }

func (s *fakeSockets) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "sio")
}

func (s *fakeSockets) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closedAt = s.seq.Add(1)
	return nil
}

func testSettings() Settings {
	s, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	return s
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.APIKey = "k"
	set.AllowedOrigins = []string{"https://app.example"}
	h, err := New(Config{Settings: set, Sockets: newFakeSockets()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	get := func(path string, hdr ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tests := []struct {
		path   string
		hdr    []string
		status int
		body   string
	}{
		{"/healthz", nil, 200, `"ok"`},
		{"/readyz", nil, 503, `"starting"`}, // not serving yet
		{"/metrics", nil, 200, "hub_connections"},
		{"/socket.io/?EIO=4&transport=polling", nil, 200, "sio"},
		{"/socket.io/?EIO=4&transport=polling", []string{"Origin", "https://evil.example"}, 403, "origin not allowed"},
		{"/api/v1/publish", nil, 405, "use POST"},
	}
	for _, tt := range tests {
		status, body := get(tt.path, tt.hdr...)
		if status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tt.path, status, body, tt.status, tt.body)
		}
	}
	if _, body := get("/metrics"); !strings.Contains(body, `hub_errors_total{reason="origin_refused"} 1`) {
		t.Errorf("origin refusal not counted:\n%s", body)
	}
}

func TestNewRefusesOpenProduction(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.Env = Production
	if _, err := New(Config{Settings: set, Sockets: newFakeSockets()}); err == nil {
		t.Fatal("open production hub accepted")
	}
}

func TestServeDrains(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.DrainWindow = time.Second
	socks := newFakeSockets()
	h, err := New(Config{Settings: set, Sockets: socks, ReadinessGrace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	// Observe the world as each drain phase starts.
	type seen struct {
		phase      string
		readyz     int  // status of GET /readyz on a new connection, 0 = refused
		clientsUp  int  // tracked connections still open
		socksClose bool // socket layer closed
	}
	var phases []seen
	h.onDrainPhase = func(p string) {
		st := seen{phase: p, clientsUp: h.conns.Load().Len()}
		if res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + addr + "/readyz"); err == nil {
			st.readyz = res.StatusCode
			res.Body.Close()
		}
		socks.mu.Lock()
		st.socksClose = socks.closedAt != 0
		socks.mu.Unlock()
		phases = append(phases, st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	waitFor(t, func() bool { return h.Ready() })

	// Twelve idle clients: raw TCP connections the drain must close.
	const n = 12
	clients := make([]net.Conn, n)
	for i := range clients {
		if clients[i], err = net.Dial("tcp", addr); err != nil {
			t.Fatal(err)
		}
		defer clients[i].Close()
	}
	waitFor(t, func() bool { return h.conns.Load().Len() == n })

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after drain = %v", err)
	}
	want := []seen{
		{phase: "not-ready", readyz: 503, clientsUp: n},
		{phase: "listener-closed", readyz: 0, clientsUp: n},
		{phase: "clients-closed", readyz: 0, clientsUp: 0},
		{phase: "closed", readyz: 0, clientsUp: 0, socksClose: true},
	}
	if len(phases) != len(want) {
		t.Fatalf("phases = %+v", phases)
	}
	for i := range want {
		if phases[i] != want[i] {
			t.Errorf("phase %d = %+v, want %+v", i, phases[i], want[i])
		}
	}
	for i, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("client %d: read succeeded after drain", i)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("client %d: connection not closed by the drain", i)
		}
	}
}

func TestCloseInBatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n       int
		spread  time.Duration
		batches int
	}{
		{0, time.Second, 0},
		{1, time.Second, 1},
		{10, time.Second, 10},                         // 20 possible steps, 10 conns: one per batch
		{1000, time.Second + 25*time.Millisecond, 20}, // ~1s / 50ms = 20 batches of 50
		{1000, 10 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		seq := new(atomic.Int64)
		conns := make([]*fakeConn, tt.n)
		for i := range conns {
			conns[i] = &fakeConn{seq: seq}
		}
		open := func() []Conn {
			var out []Conn
			for _, c := range conns {
				if c.closed.Load() == 0 {
					out = append(out, c)
				}
			}
			return out
		}
		sleeps := 0
		var last time.Time
		n := closeInBatches(open, time.Now().Add(tt.spread), func(t time.Time) {
			sleeps++
			last = t
		}, orDiscard(nil))
		if n != tt.n {
			t.Errorf("n=%d: closed %d", tt.n, n)
		}
		if sleeps != tt.batches {
			t.Errorf("n=%d spread=%v: %d batches, want %d", tt.n, tt.spread, sleeps, tt.batches)
		}
		if tt.batches > 1 && time.Until(last) > tt.spread {
			t.Errorf("last batch scheduled after the window")
		}
		if len(open()) != 0 {
			t.Errorf("n=%d: conns left open", tt.n)
		}
	}
}

func TestReadyzWhileDraining(t *testing.T) {
	t.Parallel()
	h, err := New(Config{Settings: testSettings(), Sockets: newFakeSockets()})
	if err != nil {
		t.Fatal(err)
	}
	h.ready.Store(true)
	h.draining.Store(true)
	rec := httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 503 || body["status"] != "draining" {
		t.Fatalf("readyz = %d %v", rec.Code, body)
	}
	rec = httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=websocket", nil))
	if rec.Code != 503 {
		t.Fatalf("new handshake while draining = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling&sid=abc", nil))
	if rec.Code != 200 {
		t.Fatalf("existing session while draining = %d", rec.Code)
	}
}

// waitFor polls cond until it holds (or fails the test after 10s).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, "condition", 10*time.Second, 5*time.Millisecond, cond)
}
