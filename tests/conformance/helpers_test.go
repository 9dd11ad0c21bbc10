package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startServer runs the conformance handler on a random loopback port, or
// the Node reference servers when CONFORMANCE_TARGET=node (see
// TestSuiteAgainstNodeReference).
func startServer(t *testing.T) string {
	t.Helper()
	if os.Getenv(targetEnv) == "node" {
		return startNodeReference(t)
	}
	h, closeFn, err := newHandler(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { closeFn(); srv.Close() })
	return srv.URL
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return do(t, http.MethodGet, url, "")
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	return do(t, http.MethodPost, url, body)
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// openInfo is the Engine.IO open packet.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// parseOpen checks an open packet has exactly the reference keys.
func parseOpen(t *testing.T, data string) openInfo {
	t.Helper()
	if !strings.HasPrefix(data, "0") {
		t.Fatalf("not an open packet: %q", data)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data[1:]), &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"} {
		if _, ok := keys[k]; !ok {
			t.Fatalf("open packet lacks %q: %s", k, data)
		}
	}
	if len(keys) != 5 {
		t.Fatalf("open packet has extra keys: %s", data)
	}
	var o openInfo
	if err := json.Unmarshal([]byte(data[1:]), &o); err != nil {
		t.Fatal(err)
	}
	if o.SID == "" || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1000000 {
		t.Fatalf("open packet %+v", o)
	}
	return o
}

func pollingSession(t *testing.T, base, path string) string {
	t.Helper()
	code, body := get(t, base+path+"?EIO=4&transport=polling")
	if code != 200 {
		t.Fatalf("handshake status %d", code)
	}
	return parseOpen(t, body).SID
}

// wsConn is a raw websocket to the server.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

func dialWS(t *testing.T, base, path, query string) (*wsConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(base, "http") + path + "?" + query
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(2 << 20)
	w := &wsConn{t: t, c: c}
	t.Cleanup(func() { _ = c.CloseNow() })
	return w, nil
}

func mustWS(t *testing.T, base, path, query string) *wsConn {
	t.Helper()
	w, err := dialWS(t, base, path, query)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// read returns the next frame; pings ("2") are skipped when skipPings.
func (w *wsConn) read(skipPings bool) (websocket.MessageType, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		typ, b, err := w.c.Read(ctx)
		if err != nil {
			return 0, nil, err
		}
		if skipPings && typ == websocket.MessageText && string(b) == "2" {
			continue
		}
		return typ, b, nil
	}
}

func (w *wsConn) expectText(want string) {
	w.t.Helper()
	typ, b, err := w.read(true)
	if err != nil {
		w.t.Fatalf("want %q: %v", want, err)
	}
	if typ != websocket.MessageText || string(b) != want {
		w.t.Fatalf("got %q, want %q", b, want)
	}
}

func (w *wsConn) expectPrefix(prefix string) string {
	w.t.Helper()
	typ, b, err := w.read(true)
	if err != nil {
		w.t.Fatalf("want %q...: %v", prefix, err)
	}
	if typ != websocket.MessageText || !strings.HasPrefix(string(b), prefix) {
		w.t.Fatalf("got %q, want prefix %q", b, prefix)
	}
	return string(b[len(prefix):])
}

func (w *wsConn) expectBinary(want []byte) {
	w.t.Helper()
	typ, b, err := w.read(true)
	if err != nil {
		w.t.Fatal(err)
	}
	if typ != websocket.MessageBinary || !bytes.Equal(b, want) {
		w.t.Fatalf("got %v (%v), want binary %v", b, typ, want)
	}
}

// expectClose reads until the server closes the connection.
func (w *wsConn) expectClose() {
	w.t.Helper()
	for {
		if _, _, err := w.read(true); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				w.t.Fatalf("connection not closed: %v", err)
			}
			return
		}
	}
}

func (w *wsConn) send(s string) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsConn) sendBinary(b []byte) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		w.t.Fatal(err)
	}
}

// tryPost posts body; ok is false when the server aborted the request.
func tryPost(url, body string) (code int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, true
}
