package socketio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// rawWS is a bare Engine.IO websocket client for tests through the real
// engineio server.
type rawWS struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	w := &rawWS{t: t, c: c}
	if got := w.read(); !strings.HasPrefix(got, "0{") {
		t.Fatalf("open packet %q", got)
	}
	return w
}

func (w *rawWS) send(s string) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next text message ("" once closed), answering pings.
func (w *rawWS) read() string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				w.t.Fatal("read timed out")
			}
			return ""
		}
		if string(b) == "2" {
			w.send("3")
			continue
		}
		return string(b)
	}
}

func TestThroughEngine(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r string) { reasons <- r })
		s.On("ping-me", func(_ Args, ack AckFunc) { _ = ack("pong", []byte{1}) })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	if res, err := http.Get(hs.URL + "/elsewhere/"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("outside the path: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	good, bad := dialRaw(t, hs.URL), dialRaw(t, hs.URL)
	good.send("40")
	bad.send("40")
	if !strings.HasPrefix(good.read(), "40{") || !strings.HasPrefix(bad.read(), "40{") {
		t.Fatal("no connect ack")
	}
	// a malformed packet closes that connection only
	bad.send(`42["unterminated"`)
	if got := bad.read(); got != "" {
		t.Fatalf("bad connection got %q, want close", got)
	}
	if r := <-reasons; r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
	good.send(`421["ping-me"]`)
	if got := good.read(); got != `461-1["pong",{"_placeholder":true,"num":0}]` {
		t.Fatalf("ack %q", got)
	}
	// (the attachment follows as a binary frame)
	if _, b, err := good.c.Read(context.Background()); err != nil || string(b) != "\x01" {
		t.Fatalf("attachment %q %v", b, err)
	}

	// the client keeps reading, as a real one does, so the close handshake
	// completes
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			if _, _, err := good.c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-reasons; r != ReasonServerShuttingDown {
		t.Fatalf("reason %q", r)
	}
	if p, w := srv.EngineCount(); p+w != 0 {
		t.Fatalf("%d sessions left after Shutdown", p+w)
	}
	<-readDone
	if err := srv.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}
