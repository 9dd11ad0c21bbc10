package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/socketio"
)

// requireNode returns the node binary, skipping (or failing in CI) when node
// or the installed socket.io-client is missing.
func requireNode(t *testing.T) string {
	t.Helper()
	return testenv.Node(t, "socket.io-client").Bin
}

// newHub builds the Socket.IO server the scenarios talk to.
func newHubWith(t *testing.T, cfg socketio.Config) *socketio.Server {
	t.Helper()
	cfg.PingInterval, cfg.PingTimeout = 2*time.Second, 2*time.Second
	srv, err := socketio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(args socketio.Args, _ socketio.AckFunc) { _ = s.Emit("echo-back", args...) })
		s.On("ack-me", func(args socketio.Args, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(args...)
			}
		})
		s.On("no-ack", func(socketio.Args, socketio.AckFunc) {})
		s.On("transport", func(_ socketio.Args, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(s.Transport())
			}
		})
		s.On("ask-me", func(socketio.Args, socketio.AckFunc) {
			_ = s.Timeout(5*time.Second).Emit("question", "q1", func(err error, a socketio.Args) {
				if err != nil {
					_ = s.Emit("answer-was", "error: "+err.Error())
					return
				}
				_ = s.Emit("answer-was", a...)
			})
		})
		s.On("ask-ignored", func(socketio.Args, socketio.AckFunc) {
			_ = s.Timeout(200*time.Millisecond).Emit("ignore-me", func(err error, _ socketio.Args) {
				msg := "no error"
				if err != nil {
					msg = err.Error()
				}
				_ = s.Emit("server-timeout", msg)
			})
		})
		s.On("join", func(args socketio.Args, ack socketio.AckFunc) {
			room, err := args.String(0)
			if err != nil || ack == nil {
				return
			}
			s.Join(room)
			_ = ack(map[string]any{"ok": true})
		})
		s.On("say", func(args socketio.Args, ack socketio.AckFunc) {
			room, _ := args.String(0)
			_ = s.To(room).Emit("said", args[1:]...)
			if ack != nil {
				_ = ack()
			}
		})
		s.On("poll-room", func(args socketio.Args, ack socketio.AckFunc) {
			room, _ := args.String(0)
			_ = s.Namespace().To(room).Timeout(5*time.Second).Emit("vote", args[1], func(err error, rs []socketio.Args) {
				votes := make([]string, 0, len(rs))
				for _, r := range rs {
					v, _ := r.String(0)
					votes = append(votes, v)
				}
				sort.Strings(votes)
				res := map[string]any{"votes": votes}
				if err != nil {
					res["error"] = err.Error()
				}
				_ = ack(res)
			})
		})
		s.On("notify-except", func(args socketio.Args, ack socketio.AckFunc) {
			room, _ := args.String(0)
			_ = s.Namespace().Except(room).Emit("said", args[1:]...)
			_ = ack()
		})
		s.On("bin-to-client", func(socketio.Args, socketio.AckFunc) {
			_ = s.Emit("bin", []byte{10, 20, 30}, func(a socketio.Args) {
				b, ok := a.Bytes(0)
				if !ok {
					_ = s.Emit("bin-ack-was", "not binary")
					return
				}
				_ = s.Emit("bin-ack-was", b)
			})
		})
	})
	welcome := func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Namespace().Name())
		s.On("echo", func(args socketio.Args, _ socketio.AckFunc) { _ = s.Emit("echo-back", args...) })
	}
	srv.Of("/custom").OnConnection(welcome)
	srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(welcome)
	private := srv.Of("/private")
	private.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "good" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 403, "reason": "bad token"}}
		}
		return nil
	})
	return srv
}

// serve runs srv on addr ("127.0.0.1:0" for a random port) until the test
// ends or stop is called.
func serve(t *testing.T, srv *socketio.Server, addr string) (url string, stop func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port of a just-stopped server may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = srv.Close()
		_ = hs.Close()
		<-done
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// jsClient is a running client.js scenario.
type jsClient struct {
	t     *testing.T
	lines chan map[string]any
	wait  func() error
}

func runClient(t *testing.T, scenario, url, mode string) *jsClient {
	t.Helper()
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	script := filepath.Join(testenv.RepoRoot(t), "tests", "e2e", "js", "client.js")
	cmd := exec.CommandContext(ctx, node, script, scenario, url, mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &jsClient{t: t, lines: make(chan map[string]any, 64)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"event": "unparsed", "line": sc.Text()}
			}
			c.lines <- m
		}
	}()
	waited := false
	c.wait = func() error {
		if waited {
			return nil
		}
		waited = true
		err := cmd.Wait()
		cancel()
		if err != nil {
			return errors.New(err.Error() + ": " + stderr.String())
		}
		return nil
	}
	t.Cleanup(func() {
		cancel()
		_ = c.wait()
	})
	return c
}

// next returns the next line of output, failing on a "fail" line.
func (c *jsClient) next() map[string]any {
	c.t.Helper()
	select {
	case m, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("client exited early: %v", c.wait())
		}
		if m["event"] == "fail" {
			c.t.Fatalf("client failed: %v", m["message"])
		}
		return m
	case <-time.After(25 * time.Second):
		c.t.Fatal("no output from client")
	}
	return nil
}

// expect asserts the next line equals want (compared as JSON).
func (c *jsClient) expect(want string) {
	c.t.Helper()
	got := c.next()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		c.t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		c.t.Fatalf("client said %s\n           want %s", gb, wb)
	}
}

// finish expects the done line and a clean exit.
func (c *jsClient) finish() {
	c.t.Helper()
	c.expect(`{"event":"done"}`)
	if err := c.wait(); err != nil {
		c.t.Fatal(err)
	}
}
