package hube2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestClusterThroughRedis: two hub replicas on one real redis-server, in
// each Redis mode. A publish on one replica reaches the room's members on
// the other (never the publisher), and so does an API publish; readiness
// waits for the Redis subscription.
func TestClusterThroughRedis(t *testing.T) {
	needNode(t)
	t.Parallel()
	for _, mode := range []string{"classic", "sharded", "streams"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			rs := testenv.RedisServer(t)
			env := map[string]string{"REDIS_URL": rs.URL(), "HUB_REDIS_MODE": mode, "HUB_API_KEY": "k"}
			a := startHub(t, env)
			b := startHub(t, env)
			p := startPuppet(t)
			p.Connect("a1", a.url, map[string]any{"transports": []string{"websocket"}})
			p.Connect("a2", a.url, map[string]any{"transports": []string{"websocket"}})
			p.Connect("b1", b.url, map[string]any{"transports": []string{"polling"}})
			for _, id := range []string{"a1", "a2", "b1"} {
				ok(t, id+" join", p.Call(id, "join", "room"))
				ok(t, id+" join ctl", p.Call(id, "join", "ctl"))
			}
			// a1 publishes: a2 (same replica) and b1 (other replica) receive.
			ok(t, "publish", p.Call("a1", "publish", "room", "m", map[string]any{"from": "a1"}))
			for _, id := range []string{"a2", "b1"} {
				e, _ := p.WaitFrom(0, id+" gets m", func(e event) bool { return e.ID == id && e.Event == "m" })
				if got := payload(t, e, 1); got[0] != `{"from":"a1"}` {
					t.Fatalf("%s got %s", id, got)
				}
			}
			// b1 answers on ctl from the other replica; a1 must have seen no m
			// before that marker, and m reached a1 never.
			ok(t, "marker", p.Call("b1", "publish", "ctl", "marker", 1))
			p.WaitFrom(0, "a1 marker", func(e event) bool { return e.ID == "a1" && e.Event == "marker" })
			if got := received(p, "a1", "m"); len(got) != 0 {
				t.Fatalf("publisher received its own publish: %+v", got)
			}
			// An API publish on b reaches every member on both replicas.
			from := p.Len()
			if st, body := post(t, b.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"api","data":"x"}`); st != 202 {
				t.Fatalf("API publish: %d %v", st, body)
			}
			for _, id := range []string{"a1", "a2", "b1"} {
				p.WaitFrom(from, id+" gets api", func(e event) bool { return e.ID == id && e.Event == "api" })
			}
			a.Stop()
			b.Stop()
		})
	}
}

// TestRedisEmitterIntoHub: a Node backend publishing with
// @socket.io/redis-emitter reaches socket.io-client sockets on hub replicas
// (classic mode), and the production hub logs JSON.
func TestRedisEmitterIntoHub(t *testing.T) {
	needNode(t)
	t.Parallel()
	rs := testenv.RedisServer(t)
	secret := "a-production-secret-of-32-or-more-bytes"
	h := startHub(t, map[string]string{
		"REDIS_URL": rs.URL(), "HUB_ENV": "production", "HUB_JWT_SECRET": secret,
		"HUB_REDIS_MODE": "classic", // redis-emitter speaks the classic protocol
	})
	p := startPuppet(t)
	tok := token(t, jwt.SigningMethodHS256, []byte(secret), time.Hour, []string{"orders:*"}, nil)
	if e := p.Connect("c", h.url, map[string]any{"auth": map[string]any{"token": tok}}); e.Type != "connect" {
		t.Fatalf("connect: %+v", e)
	}
	ok(t, "join", p.Call("c", "join", "orders:7"))
	from := p.Len()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(repoRoot, "tests", "hube2e", "js", "emit.js"),
		rs.URL(), "orders:7", "order.paid", `{"id":7,"total":12.5}`)
	cmd.Env = append(os.Environ(), "HUBKIT_ROOT="+repoRoot)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("emit.js: %v\n%s", err, out)
	}
	e, _ := p.WaitFrom(from, "emitter event", func(e event) bool { return e.ID == "c" && e.Event == "order.paid" })
	if got := payload(t, e, 1); got[0] != `{"id":7,"total":12.5}` {
		t.Fatalf("received %s", got)
	}
	h.Stop()
	for _, line := range strings.Split(strings.TrimSpace(h.Logs()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("production log line is not JSON: %q", line)
			continue
		}
		if rec["level"] == nil || rec["msg"] == nil || rec["service"] != "hub" {
			t.Errorf("log line lacks level/msg/service: %q", line)
		}
	}
}
