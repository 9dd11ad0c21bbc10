package engineio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hubkit/hubkit/internal/testenv"
)

// nodeServerScript is a real Node engine.io 6.6 server configured like the
// Go server of TestDifferentialAgainstNode: an echo, CORS reflecting any
// origin with credentials.
const nodeServerScript = `
const http = require("http");
const { Server } = require("engine.io");
const [pingInterval, pingTimeout, maxHttpBufferSize] = process.argv.slice(2).map(Number);
const httpServer = http.createServer();
const engine = new Server({ pingInterval, pingTimeout, maxHttpBufferSize, cors: { origin: true, credentials: true } });
engine.attach(httpServer, { path: "/engine.io/" });
engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
httpServer.listen(0, "127.0.0.1", () => console.log(httpServer.address().port));
`

// startNodeServer runs nodeServerScript and returns its base URL.
func startNodeServer(t *testing.T, pingInterval, pingTimeout time.Duration, maxPayload int) string {
	t.Helper()
	node := testenv.Node(t, "engine.io-client")
	script := filepath.Join(t.TempDir(), "server.js")
	if err := os.WriteFile(script, []byte(nodeServerScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node.Bin, script, fmt.Sprint(pingInterval.Milliseconds()), fmt.Sprint(pingTimeout.Milliseconds()), fmt.Sprint(maxPayload))
	cmd.Env = node.Env()
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	testenv.StartCmd(t, cmd)
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("node server did not start: %v", err)
	}
	return "http://127.0.0.1:" + strings.TrimSpace(port)
}

// observer runs one scenario against one server and records what a client
// sees, with the session id replaced by <sid>.
type observer struct {
	t    *testing.T
	base string
	sid  string
	seen []string
}

func (o *observer) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if o.sid != "" {
		s = strings.ReplaceAll(s, o.sid, "<sid>")
	}
	o.seen = append(o.seen, s)
}

func (o *observer) request(method, query, body string, header http.Header) (int, http.Header, string) {
	o.t.Helper()
	req, err := http.NewRequest(method, o.base+testPath+"?"+query, strings.NewReader(body))
	if err != nil {
		o.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, nil, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// do performs a request and notes its status, the listed headers and body.
func (o *observer) do(method, query, body string, header http.Header, headers ...string) {
	o.t.Helper()
	status, h, b := o.request(method, query, body, header)
	line := fmt.Sprintf("%s %s → %d %q", method, query, status, b)
	for _, k := range headers {
		line += fmt.Sprintf(" %s=%q", k, h.Get(k))
	}
	o.note("%s", line)
}

func (o *observer) open() {
	o.t.Helper()
	status, _, b := o.request(http.MethodGet, "EIO=4&transport=polling", "", nil)
	if status != 200 || !strings.HasPrefix(b, `0{"sid":"`) {
		o.t.Fatalf("handshake %d %q", status, b)
	}
	o.sid = b[9:29]
}

func (o *observer) q() string { return "EIO=4&transport=polling&sid=" + o.sid }

// upgradeRequest sends a raw websocket upgrade and notes the refusal.
func (o *observer) upgradeRequest(query string) {
	o.t.Helper()
	addr := strings.TrimPrefix(o.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		o.t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET "+testPath+"?"+query+" HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		o.note("upgrade %s → %v", query, err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	o.note("upgrade %s → %d %q", query, res.StatusCode, b)
}

var diffScenarios = []struct {
	name string
	run  func(o *observer)
}{
	{"handshake", func(o *observer) {
		status, h, b := o.request(http.MethodGet, "EIO=4&transport=polling&t=x", "", nil)
		o.sid = b[9:29]
		o.note("%d %q ct=%q cache=%q", status, b, h.Get("Content-Type"), h.Get("Cache-Control"))
	}},
	{"request errors", func(o *observer) {
		for _, q := range []string{"EIO=3&transport=polling", "transport=polling", "EIO=4&transport=flash", "EIO=4",
			"EIO=4&transport=polling&sid=unknown", "EIO=4&transport=websocket"} {
			o.do(http.MethodGet, q, "", nil, "Content-Type")
		}
		o.do(http.MethodPost, "EIO=4&transport=polling", "4x", nil, "Content-Type")
		o.open()
		o.do(http.MethodGet, "EIO=3&transport=polling&sid="+o.sid, "", nil, "Content-Type")
	}},
	{"upgrade request errors", func(o *observer) {
		// Not compared: EIO=3 over websocket, where Node answers 101 and then
		// writes an HTTP 400 into the upgraded stream; this package answers a
		// plain 400 "Unsupported protocol version" before upgrading.
		o.upgradeRequest("EIO=4&transport=flash")
		o.upgradeRequest("EIO=4&transport=websocket&sid=unknown")
	}},
	{"polling echo", func(o *observer) {
		o.open()
		o.do(http.MethodPost, o.q(), "4a\x1e4€\x1ebAQID", nil, "Content-Type")
		o.do(http.MethodGet, o.q(), "", nil, "Content-Type")
	}},
	{"cors", func(o *observer) {
		h := http.Header{"Origin": {"https://app.example"}}
		o.do(http.MethodGet, "EIO=4&transport=flash", "", h, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary")
		o.do(http.MethodOptions, "EIO=4&transport=polling", "", http.Header{"Origin": {"https://app.example"},
			"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}},
			"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")
	}},
	{"oversized body", func(o *observer) {
		o.open()
		o.do(http.MethodPost, o.q(), "4"+strings.Repeat("x", 200), nil)
		o.do(http.MethodGet, o.q(), "", nil)
	}},
	{"post close", func(o *observer) {
		o.open()
		held := make(chan string, 1)
		go func() { s, _, b := o.request(http.MethodGet, o.q(), "", nil); held <- fmt.Sprintf("%d %q", s, b) }()
		time.Sleep(100 * time.Millisecond) // sequencing only: let the poll be held on a black-box server
		o.do(http.MethodPost, o.q(), "1", nil)
		o.note("held GET → %s", <-held)
		o.do(http.MethodGet, o.q(), "", nil)
	}},
	{"duplicate poll", func(o *observer) {
		o.open()
		held := make(chan string, 1)
		go func() { s, _, b := o.request(http.MethodGet, o.q(), "", nil); held <- fmt.Sprintf("%d %q", s, b) }()
		time.Sleep(100 * time.Millisecond) // sequencing only: let the poll be held on a black-box server
		status, _, _ := o.request(http.MethodGet, o.q(), "", nil)
		o.note("second GET → %d", status)
		o.note("held GET → %s", <-held)
		o.do(http.MethodGet, o.q(), "", nil)
	}},
	{"heartbeat", func(o *observer) {
		o.open()
		o.do(http.MethodGet, o.q(), "", nil)
		o.do(http.MethodPost, o.q(), "3", nil)
		o.do(http.MethodGet, o.q(), "", nil)
	}},
	{"websocket session", func(o *observer) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(o.base, "http")+testPath+"?EIO=4&transport=websocket", nil)
		if err != nil {
			o.t.Fatal(err)
		}
		if res.Body != nil {
			res.Body.Close()
		}
		defer ws.CloseNow()
		_, b, _ := ws.Read(ctx)
		o.sid = string(b[9:29])
		o.note("open %q", b)
		for _, f := range []struct {
			typ  websocket.MessageType
			data string
		}{{websocket.MessageText, "4x"}, {websocket.MessageText, "bAQID"}, {websocket.MessageBinary, "\x00\xff"}, {websocket.MessageText, "4"}} {
			_ = ws.Write(ctx, f.typ, []byte(f.data))
			typ, b, err := ws.Read(ctx)
			o.note("%v %q → %v %q %v", f.typ, f.data, typ, b, err)
		}
		o.do(http.MethodGet, "EIO=4&transport=polling&sid="+o.sid, "", nil)
	}},
	{"upgrade", func(o *observer) {
		o.open()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(o.base, "http")+testPath+"?EIO=4&transport=websocket&sid="+o.sid, nil)
		if err != nil {
			o.t.Fatal(err)
		}
		if res.Body != nil {
			res.Body.Close()
		}
		defer ws.CloseNow()
		_ = ws.Write(ctx, websocket.MessageText, []byte("2probe"))
		_, b, err := ws.Read(ctx)
		o.note("probe → %q %v", b, err)
		o.do(http.MethodGet, o.q(), "", nil) // released with a noop while probing
		_ = ws.Write(ctx, websocket.MessageText, []byte("5"))
		_ = ws.Write(ctx, websocket.MessageText, []byte("4after"))
		_, b, err = ws.Read(ctx)
		o.note("echo over ws → %q %v", b, err)
		o.do(http.MethodGet, o.q(), "", nil, "Content-Type")
		second, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(o.base, "http")+testPath+"?EIO=4&transport=websocket&sid="+o.sid, nil)
		if err == nil {
			if res.Body != nil {
				res.Body.Close()
			}
			_, _, err = second.Read(ctx)
			o.note("second ws closed: %v", websocket.CloseStatus(err) != -1 || err != nil)
			second.CloseNow()
		} else {
			o.note("second ws refused")
		}
	}},
}

// TestDifferentialAgainstNode runs the same client scenarios against the real
// Node engine.io server and this package, and requires the client to see the
// same thing from both.
func TestDifferentialAgainstNode(t *testing.T) {
	t.Parallel()
	const pingInterval, pingTimeout, maxPayload = 300 * time.Millisecond, 2 * time.Second, 100
	node := startNodeServer(t, pingInterval, pingTimeout, maxPayload)
	ts := newTestServer(t, Config{PingInterval: pingInterval, PingTimeout: pingTimeout, MaxPayload: maxPayload}, true)
	for _, sc := range diffScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			want := &observer{t: t, base: node}
			sc.run(want)
			got := &observer{t: t, base: ts.http.URL}
			sc.run(got)
			t.Logf("node and go both:\n%s", strings.Join(want.seen, "\n"))
			if strings.Join(got.seen, "\n") != strings.Join(want.seen, "\n") {
				t.Errorf("differs from Node engine.io\n node: %s\n   go: %s", strings.Join(want.seen, "\n       "), strings.Join(got.seen, "\n       "))
			}
		})
	}
}
