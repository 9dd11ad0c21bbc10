package engineio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hubkit/hubkit/internal/testenv"
)

// testPath is where the test servers mount the Engine.IO handler.
const testPath = "/engine.io/"

// session records what the server delivered for one session.
type session struct {
	conn   *Conn
	echo   bool
	msgs   chan Message
	closed chan string // receives the OnClose reason
	mu     sync.Mutex
	calls  int // OnClose calls
}

func (s *session) OnMessage(m Message) {
	if s.echo {
		_ = s.conn.Send(m)
	}
	s.msgs <- m
}

func (s *session) OnClose(reason string) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	s.closed <- reason
}

// testServer is an Engine.IO server on a loopback httptest server.
type testServer struct {
	t    *testing.T
	eio  *Server
	http *httptest.Server

	mu       sync.Mutex
	sessions map[string]*session
}

// newTestServer starts a server; echo makes every session echo its messages.
func newTestServer(t *testing.T, cfg Config, echo bool) *testServer {
	t.Helper()
	ts := &testServer{t: t, sessions: make(map[string]*session)}
	cfg.OnConnection = func(c *Conn) ConnHandler {
		s := &session{conn: c, echo: echo, msgs: make(chan Message, 1024), closed: make(chan string, 2)}
		ts.mu.Lock()
		ts.sessions[c.ID()] = s
		ts.mu.Unlock()
		return s
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.eio = srv
	mux := http.NewServeMux()
	mux.Handle(testPath, srv)
	ts.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		// Sessions whose client is still polling or reading close gracefully;
		// idle ones are dropped when the short deadline passes.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.http.CloseClientConnections()
		ts.http.Close()
		waitCtx, waitCancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer waitCancel()
		if err := srv.waitIdle(waitCtx); err != nil {
			t.Errorf("server goroutines still running: %v", err)
		}
		if p, w := srv.Count(); p+w != 0 {
			t.Errorf("%d polling and %d websocket sessions left after shutdown", p, w)
		}
	})
	return ts
}

func (ts *testServer) url(query string) string {
	return ts.http.URL + testPath + "?" + query
}

func (ts *testServer) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(ts.http.URL, "http") + testPath + "?" + query
}

// session returns the server side of session sid.
func (ts *testServer) session(sid string) *session {
	ts.t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s := ts.sessions[sid]
	if s == nil {
		ts.t.Fatalf("no session %q", sid)
	}
	return s
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   string
}

func (ts *testServer) do(method, query, contentType, body string, header http.Header) response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url(query), strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := ts.http.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (ts *testServer) get(sid string) response {
	ts.t.Helper()
	return ts.do(http.MethodGet, "EIO=4&transport=polling&sid="+sid, "", "", nil)
}

func (ts *testServer) post(sid, body string) response {
	ts.t.Helper()
	return ts.do(http.MethodPost, "EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", body, nil)
}

// asyncGet starts a polling GET and returns the channel of its response.
func (ts *testServer) asyncGet(sid string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, ts.url("EIO=4&transport=polling&sid="+sid), nil)
		res, err := ts.http.Client().Do(req)
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- response{status: res.StatusCode, header: res.Header, body: string(b)}
	}()
	return ch
}

// openInfo is the decoded open packet.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, packet string) openInfo {
	t.Helper()
	if !strings.HasPrefix(packet, "0") {
		t.Fatalf("not an open packet: %q", packet)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(packet[1:]), &keys); err != nil {
		t.Fatalf("open packet %q: %v", packet, err)
	}
	if len(keys) != 5 {
		t.Fatalf("open packet has keys %v, want exactly sid, upgrades, pingInterval, pingTimeout, maxPayload", keys)
	}
	var o openInfo
	if err := json.Unmarshal([]byte(packet[1:]), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// handshake opens a polling session and returns its open packet and the
// server side of it.
func (ts *testServer) handshake() (openInfo, *session) {
	ts.t.Helper()
	res := ts.do(http.MethodGet, "EIO=4&transport=polling&t=abc", "", "", nil)
	if res.status != http.StatusOK {
		ts.t.Fatalf("handshake: %d %q", res.status, res.body)
	}
	o := parseOpen(ts.t, res.body)
	return o, ts.session(o.SID)
}

// dial opens a websocket to the server.
func (ts *testServer) dial(query string, header http.Header) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, ts.wsURL(query), &websocket.DialOptions{HTTPHeader: header})
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	if err == nil {
		ws.SetReadLimit(-1)
	}
	return ws, err
}

// read reads one websocket frame.
func read(t *testing.T, ws *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

func write(t *testing.T, ws *websocket.Conn, typ websocket.MessageType, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, typ, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readClose reads until the websocket is closed and returns the close status.
func readClose(t *testing.T, ws *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// dialSession opens a websocket-only session.
func (ts *testServer) dialSession() (*websocket.Conn, openInfo, *session) {
	ts.t.Helper()
	ws, err := ts.dial("EIO=4&transport=websocket", nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { ws.CloseNow() })
	_, open := read(ts.t, ws)
	o := parseOpen(ts.t, open)
	return ws, o, ts.session(o.SID)
}

func (s *session) next(t *testing.T) Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message delivered")
		return Message{}
	}
}

func (s *session) waitClosed(t *testing.T) string {
	t.Helper()
	select {
	case r := <-s.closed:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("session not closed")
		return ""
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, what, 5*time.Second, 2*time.Millisecond, cond)
}

// errorBody is the JSON error body.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func parseError(t *testing.T, body string) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}
