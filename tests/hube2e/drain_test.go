package hube2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestDrain: SIGTERM makes the hub report not-ready first (while still
// listening), then close its listener and its clients in batches; the real
// socket.io-client sees a transport-level disconnect, reconnects on its own
// through the load balancer to the other replica, and the drained process
// exits 0 within HUB_DRAIN_WINDOW.
func TestDrain(t *testing.T) {
	needNode(t)
	t.Parallel()
	const window = 3 * time.Second
	a := startHub(t, map[string]string{"HUB_DRAIN_WINDOW": window.String(), "HUB_REPLICA_ID": "a"})
	b := startHub(t, map[string]string{"HUB_API_KEY": "k", "HUB_REPLICA_ID": "b"})
	lb := startProxy(t, a.addr, b.addr)
	p := startPuppet(t)

	ids := []string{"ws1", "ws2", "poll1", "poll2"}
	sids := map[string]string{}
	for _, id := range ids {
		transport := "websocket"
		if strings.HasPrefix(id, "poll") {
			transport = "polling"
		}
		e := p.Connect(id, lb.URL(), map[string]any{
			"transports": []string{transport}, "reconnectionDelay": 100, "reconnectionDelayMax": 500,
		})
		if e.Type != "connect" {
			t.Fatalf("%s: %+v", id, e)
		}
		sids[id] = e.SID
		ok(t, id+" join", p.Call(id, "join", "room"))
	}
	waitUntil(t, "4 clients on a", func() bool {
		return metric(t, a, `hub_connections{transport="websocket"}`)+metric(t, a, `hub_connections{transport="polling"}`) == 4
	})
	if n := metric(t, b, `hub_connections{transport="websocket"}`) + metric(t, b, `hub_connections{transport="polling"}`); n != 0 {
		t.Fatalf("b has %v connections before the drain", n)
	}

	from := p.Len()
	start := time.Now()
	a.Signal(syscall.SIGTERM)

	// Readiness flips first: /readyz answers 503 while the listener is open.
	var readyz int
	waitUntil(t, "a not ready", func() bool {
		readyz, _ = httpGet(a.url + "/readyz")
		return readyz != 200
	})
	if readyz != 503 {
		t.Fatalf("first non-200 /readyz of the draining hub = %d (0 = refused), want 503", readyz)
	}

	// Every client sees a transport-level disconnect and reconnects to b.
	for _, id := range ids {
		d, _ := p.WaitFrom(from, id+" disconnect", func(e event) bool { return e.ID == id && e.Type == "disconnect" })
		if d.Reason != "transport close" && d.Reason != "transport error" {
			t.Errorf("%s disconnect reason %q: the client will not reconnect by itself", id, d.Reason)
		}
		c, _ := p.WaitFrom(from, id+" reconnect", func(e event) bool { return e.ID == id && e.Type == "connect" })
		if c.SID == sids[id] {
			t.Errorf("%s reconnected with the same sid", id)
		}
	}
	code, exited := a.Wait(window + 2*time.Second)
	elapsed := time.Since(start)
	if !exited {
		t.Fatalf("drained hub still running %v after SIGTERM", elapsed)
	}
	if code != 0 {
		t.Fatalf("drained hub exit code %d", code)
	}
	if elapsed > window+time.Second {
		t.Errorf("drain took %v, window %v", elapsed, window)
	}
	t.Logf("drained hub exited 0 after %v (window %v)", elapsed, window)
	logs := a.Logs()
	for _, want := range []string{"drain started", "drain: clients closed", "drain finished"} {
		if !strings.Contains(logs, want) {
			t.Errorf("drain log lacks %q", want)
		}
	}
	waitUntil(t, "4 clients on b", func() bool {
		return metric(t, b, `hub_connections{transport="websocket"}`)+metric(t, b, `hub_connections{transport="polling"}`) == 4
	})

	// The reconnected clients work on b: re-join and receive an API publish.
	for _, id := range ids {
		ok(t, id+" re-join", p.Call(id, "join", "room"))
	}
	from = p.Len()
	if st, body := post(t, b.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"after","data":1}`); st != 202 {
		t.Fatalf("publish on b: %d %v", st, body)
	}
	for _, id := range ids {
		p.WaitFrom(from, fmt.Sprintf("%s receives on b", id), func(e event) bool { return e.ID == id && e.Event == "after" })
	}
	b.Stop()
}

// TestDrainRecoversOnOtherReplica: with HUB_REDIS_MODE=streams, a client of
// a draining replica reconnects through the load balancer to the other
// replica and recovers its session there — same socket id, its rooms, and
// the event published while it was moving.
func TestDrainRecoversOnOtherReplica(t *testing.T) {
	needNode(t)
	t.Parallel()
	rs := testenv.RedisServer(t)
	env := func(id string) map[string]string {
		return map[string]string{"REDIS_URL": rs.URL(), "HUB_REDIS_MODE": "streams", "HUB_API_KEY": "k",
			"HUB_DRAIN_WINDOW": "2s", "HUB_REPLICA_ID": id}
	}
	a := startHub(t, env("a"))
	b := startHub(t, env("b"))
	lb := startProxy(t, a.addr, b.addr)
	p := startPuppet(t)
	first := p.Connect("c", lb.URL(), map[string]any{
		"transports": []string{"websocket"}, "reconnectionDelay": 200, "reconnectionDelayMax": 200,
	})
	if first.Type != "connect" {
		t.Fatalf("connect: %+v", first)
	}
	ok(t, "join", p.Call("c", "join", "room"))
	from := p.Len()
	if st, _ := post(t, b.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"before","data":1}`); st != 202 {
		t.Fatal("publish before")
	}
	p.WaitFrom(from, "before", func(e event) bool { return e.ID == "c" && e.Event == "before" })

	from = p.Len()
	a.Signal(syscall.SIGTERM)
	p.WaitFrom(from, "disconnect", func(e event) bool { return e.ID == "c" && e.Type == "disconnect" })
	if st, _ := post(t, b.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"missed","data":2}`); st != 202 {
		t.Fatal("publish while moving")
	}
	again, _ := p.WaitFrom(from, "reconnect", func(e event) bool { return e.ID == "c" && e.Type == "connect" })
	if !again.Recovered || again.SID != first.SID {
		t.Fatalf("not recovered on b: %+v (first sid %s)", again, first.SID)
	}
	e, _ := p.WaitFrom(from, "missed", func(e event) bool { return e.ID == "c" && e.Event == "missed" })
	if got := payload(t, e, 1); got[0] != "2" {
		t.Fatalf("missed = %s", got)
	}
	if code, exited := a.Wait(10 * time.Second); !exited || code != 0 {
		t.Fatalf("a exit: %v %d", exited, code)
	}
	waitUntil(t, "client counted on b", func() bool { return metric(t, b, `hub_connections{transport="websocket"}`) == 1 })
	if got := metric(t, b, "hub_rooms"); got != 1 {
		t.Fatalf("b hub_rooms = %v, want 1 (recovered room)", got)
	}
	b.Stop()
}
