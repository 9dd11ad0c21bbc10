package sio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scripted is a unit-test peer: it plays a fixed server script and reports
// what the client wrote. The real-server test is the smoke test in tests/load.
func scripted(t *testing.T, script func(ctx context.Context, c *websocket.Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("EIO") != "4" || r.URL.Query().Get("transport") != "websocket" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		script(r.Context(), c)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func expect(ctx context.Context, t *testing.T, c *websocket.Conn, want string) {
	t.Helper()
	_, got, err := c.Read(ctx)
	if err != nil || string(got) != want {
		t.Errorf("server read %q, %v; want %q", got, err, want)
	}
}

func TestClientHandshakePingEventAck(t *testing.T) {
	t.Parallel()
	events := make(chan string, 1)
	done := make(chan struct{})
	url := scripted(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Write(ctx, websocket.MessageText, []byte(`0{"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
		expect(ctx, t, c, `40{"token":"x"}`)
		_ = c.Write(ctx, websocket.MessageText, []byte(`2`)) // a ping before the ack is answered too
		expect(ctx, t, c, `3`)
		_ = c.Write(ctx, websocket.MessageText, []byte(`40{"sid":"sock1"}`))
		expect(ctx, t, c, `420["join","room"]`)
		_ = c.Write(ctx, websocket.MessageText, []byte(`430[{"ok":true}]`))
		_ = c.Write(ctx, websocket.MessageText, []byte(`42["msg",{"t":1}]`))
		_ = c.Write(ctx, websocket.MessageText, []byte(`2`))
		expect(ctx, t, c, `3`)
		<-done
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	c, err := Dial(ctx, Config{
		URL:     url,
		Auth:    []byte(`{"token":"x"}`),
		OnEvent: func(data []byte) { events <- string(data) },
		OnClose: func(err error) { closed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	if hs := c.Handshake(); hs.EIOSid != "eio1" || hs.SocketID != "sock1" || hs.PingInterval != 25000 {
		t.Fatalf("handshake %+v", hs)
	}
	ack, err := c.Call(ctx, []byte(`["join","room"]`))
	if err != nil || string(ack) != `[{"ok":true}]` {
		t.Fatalf("ack %s, %v", ack, err)
	}
	if got := <-events; got != `["msg",{"t":1}]` {
		t.Fatalf("event %s", got)
	}
	close(done)
	if err := <-closed; err == nil {
		t.Fatal("server hang-up reported as a local close")
	}
	if err := c.Emit(ctx, []byte(`["x"]`)); !errors.Is(err, ErrClosed) {
		t.Fatalf("emit after close: %v", err)
	}
}

func TestClientRejectedAndBadOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []string
		want   error
	}{
		{"connect_error", []string{`0{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":1}`, `44{"message":"invalid token"}`}, ErrRejected},
		{"no open packet", []string{`40{"sid":"x"}`}, ErrHandshake},
		{"garbage after open", []string{`0{"sid":"a"}`, `4zz`}, ErrHandshake},
		{"ack without sid", []string{`0{"sid":"a"}`, `40{}`}, ErrHandshake},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := scripted(t, func(ctx context.Context, c *websocket.Conn) {
				for _, f := range tc.frames {
					_ = c.Write(ctx, websocket.MessageText, []byte(f))
				}
				_, _, _ = c.Read(ctx) // the CONNECT
				_, _, _ = c.Read(ctx) // until the client hangs up
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := Dial(ctx, Config{URL: url})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClientClosesOnMalformedPacket(t *testing.T) {
	t.Parallel()
	url := scripted(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Write(ctx, websocket.MessageText, []byte(`0{"sid":"a"}`))
		_, _, _ = c.Read(ctx)
		_ = c.Write(ctx, websocket.MessageText, []byte(`40{"sid":"s"}`))
		_ = c.Write(ctx, websocket.MessageText, []byte(`42{"not":"an array"}`))
		_, _, _ = c.Read(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	if _, err := Dial(ctx, Config{URL: url, OnClose: func(err error) { closed <- err }}); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; !errors.Is(err, ErrPacket) {
		t.Fatalf("close reason %v, want ErrPacket", err)
	}
}
