package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/socketio"
)

// server is one running backend.
type server struct {
	url  string
	stop func()
	// emit broadcasts event(args...) to room from the server side.
	emit func(room, event string, args ...any)
}

// backend starts servers of one implementation: the Go hub under test, or
// the reference Node socket.io server running the same handlers, so every
// expected output is checked against Node too.
type backend struct {
	name  string
	start func(t *testing.T, transports []string, recovery bool, addr string) server
}

var backends = []backend{
	{"go", startGo},
	{"node", startNode},
}

func startGo(t *testing.T, transports []string, recovery bool, addr string) server {
	t.Helper()
	cfg := socketio.Config{Transports: transports}
	if recovery {
		cfg.Recovery = &socketio.RecoveryConfig{}
	}
	srv := newHubWith(t, cfg)
	url, stop := serve(t, srv, addr)
	return server{url: url, stop: stop, emit: func(room, event string, args ...any) {
		if err := srv.To(room).Emit(event, args...); err != nil {
			t.Error(err)
		}
	}}
}

func startNode(t *testing.T, transports []string, recovery bool, addr string) server {
	t.Helper()
	node := requireNode(t)
	mode := "both"
	if len(transports) == 1 {
		mode = transports[0]
	}
	port := "0"
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		port = addr[i+1:]
	}
	rec := "0"
	if recovery {
		rec = "1"
	}
	script := filepath.Join(testenv.RepoRoot(t), "tests", "e2e", "js", "server.js")
	var lastErr error
	for range 50 { // the port of a just-stopped server may take a moment to free
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, node, script, port, mode, rec)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var ready struct {
			Port int `json:"port"`
		}
		l, err := testenv.FirstLine(stdout, 15*time.Second)
		if err == nil && json.Unmarshal([]byte(l), &ready) == nil && ready.Port != 0 {
			stopped := false
			stop := func() {
				if stopped {
					return
				}
				stopped = true
				_ = stdin.Close()
				cancel()
				_ = cmd.Wait()
			}
			t.Cleanup(stop)
			return server{
				url:  fmt.Sprintf("http://127.0.0.1:%d", ready.Port),
				stop: stop,
				emit: func(room, event string, args ...any) {
					b, _ := json.Marshal(map[string]any{"cmd": "emit", "room": room, "event": event, "args": args})
					if _, err := stdin.Write(append(b, '\n')); err != nil {
						t.Error(err)
					}
				},
			}
		}
		cancel()
		_ = cmd.Wait()
		lastErr = fmt.Errorf("node server did not start: %s", stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(lastErr)
	return server{}
}
