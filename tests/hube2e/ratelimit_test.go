package hube2e

import "testing"

// TestClientRateLimit: with HUB_CLIENT_RATE, the real client's events past
// its burst are answered "rate limited" and counted, and another
// connection keeps its own budget.
func TestClientRateLimit(t *testing.T) {
	needNode(t)
	t.Parallel()
	// 0.01 events/s: nothing refills during the test, so exactly the burst
	// (3) is allowed whatever the machine's speed.
	h := startHub(t, map[string]string{"HUB_CLIENT_RATE": "0.01", "HUB_CLIENT_BURST": "3"})
	p := startPuppet(t)
	opts := map[string]any{"transports": []string{"websocket"}}
	if c := p.Connect("a", h.url, opts); c.Type != "connect" {
		t.Fatalf("connect a: %+v", c)
	}
	ok(t, "join 1", p.Call("a", "join", "r"))
	ok(t, "publish", p.Call("a", "publish", "r", "e", 1))
	ok(t, "leave", p.Call("a", "leave", "r"))
	ackErr(t, "join past the burst", p.Call("a", "join", "r"), "rate limited")
	ackErr(t, "publish past the burst", p.Call("a", "publish", "r", "e", 2), "rate limited")
	if got := metric(t, h, `hub_errors_total{reason="rate_limited"}`); got != 2 {
		t.Fatalf("rate_limited = %v, want 2", got)
	}
	if c := p.Connect("b", h.url, opts); c.Type != "connect" {
		t.Fatalf("connect b: %+v", c)
	}
	ok(t, "another connection joins", p.Call("b", "join", "r"))
}
