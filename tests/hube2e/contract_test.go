package hube2e

import (
	"encoding/json"
	"strings"
	"testing"
)

func ok(t *testing.T, what string, ack map[string]any) {
	t.Helper()
	if ack["ok"] != true || ack["error"] != nil {
		t.Fatalf("%s: ack = %v, want {ok:true}", what, ack)
	}
}

func ackErr(t *testing.T, what string, ack map[string]any, contains string) {
	t.Helper()
	msg, _ := ack["error"].(string)
	if ack["ok"] != nil || !strings.Contains(msg, contains) {
		t.Fatalf("%s: ack = %v, want {error: ...%q...}", what, ack, contains)
	}
}

func received(p *puppet, id, name string) []event {
	var out []event
	for _, e := range p.Events(id) {
		if e.Type == "event" && e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// TestContract: join/leave/publish with acks, errors as {error} acks, the
// publisher excluded, leave stops delivery — over websocket and polling.
func TestContract(t *testing.T) {
	needNode(t)
	t.Parallel()
	h := startHub(t, nil)
	p := startPuppet(t)

	// a: publisher (websocket), b: receiver (polling only), c: leaves.
	for id, opts := range map[string]map[string]any{
		"a": {"transports": []string{"websocket"}},
		"b": {"transports": []string{"polling"}},
		"c": nil,
	} {
		if e := p.Connect(id, h.url, opts); e.Type != "connect" {
			t.Fatalf("%s: %+v", id, e)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		ok(t, id+" join room", p.Call(id, "join", "room"))
		ok(t, id+" join ctl", p.Call(id, "join", "ctl"))
	}

	// 1. a publishes: b and c receive, a does not.
	ok(t, "publish", p.Call("a", "publish", "room", "msg", map[string]any{"n": 1, "text": "héllo"}))
	for _, id := range []string{"b", "c"} {
		e, _ := p.WaitFrom(0, id+" msg 1", func(e event) bool { return e.ID == id && e.Type == "event" && e.Event == "msg" })
		if got := payload(t, e, 1); got[0] != `{"n":1,"text":"héllo"}` {
			t.Fatalf("%s got %s", id, got)
		}
	}
	// A marker published by b after it received msg 1 reaches a after msg 1
	// would have: if a got nothing before the marker, it was excluded.
	ok(t, "marker 1", p.Call("b", "publish", "ctl", "marker", 1))
	p.WaitFrom(0, "a marker 1", func(e event) bool { return e.ID == "a" && e.Event == "marker" })
	if got := received(p, "a", "msg"); len(got) != 0 {
		t.Fatalf("publisher received its own publish: %+v", got)
	}

	// 2. c leaves; a publishes again: b receives, c does not.
	ok(t, "c leave", p.Call("c", "leave", "room"))
	ok(t, "leave again is fine", p.Call("c", "leave", "room"))
	from := p.Len()
	ok(t, "publish 2", p.Call("a", "publish", "room", "msg", 2))
	p.WaitFrom(from, "b msg 2", func(e event) bool { return e.ID == "b" && e.Event == "msg" && string(e.Args[0]) == "2" })
	ok(t, "marker 2", p.Call("b", "publish", "ctl", "marker", 2))
	p.WaitFrom(from, "c marker 2", func(e event) bool { return e.ID == "c" && e.Event == "marker" && string(e.Args[0]) == "2" })
	if got := received(p, "c", "msg"); len(got) != 1 {
		t.Fatalf("c after leave: msgs %+v, want only the first", got)
	}

	// 3. Several payload arguments and binary pass through unchanged.
	from = p.Len()
	ok(t, "publish multi", p.Call("a", "publish", "room", "multi", "x", 3, map[string]any{"$bin": "AAEC/w=="}))
	e, _ := p.WaitFrom(from, "b multi", func(e event) bool { return e.ID == "b" && e.Event == "multi" })
	if got := payload(t, e, 3); got[0] != `"x"` || got[1] != "3" || got[2] != `{"$bin":"AAEC/w=="}` {
		t.Fatalf("multi args = %s", got)
	}

	// 4. Errors come back as {error} acks, naming the problem.
	tests := []struct {
		name     string
		event    string
		args     []any
		contains string
	}{
		{"join number", "join", []any{5}, "room must be a string"},
		{"join empty", "join", []any{""}, "non-empty"},
		{"join nothing", "join", nil, "room must be a string"},
		{"leave object", "leave", []any{map[string]any{}}, "room must be a string"},
		{"publish room number", "publish", []any{1, "e", "x"}, "room must be a string"},
		{"publish no event", "publish", []any{"room"}, "event must be a string"},
		{"publish reserved event", "publish", []any{"room", "disconnect", 1}, "reserved"},
		{"publish empty event", "publish", []any{"room", "", 1}, `"event" is required`},
		{"publish forged hub event", "publish", []any{"room", "hub:error", 1}, "belong to the hub"},
	}
	for _, tt := range tests {
		ackErr(t, tt.name, p.Call("a", tt.event, tt.args...), tt.contains)
	}

	// 5. Without an ack a failure is still reported, as a hub:error event.
	from = p.Len()
	p.Emit("a", "join", 42)
	e, _ = p.WaitFrom(from, "hub:error", func(e event) bool { return e.ID == "a" && e.Event == "hub:error" })
	var he map[string]string
	if err := json.Unmarshal(e.Args[0], &he); err != nil || he["op"] != "join" || !strings.Contains(he["error"], "room must be a string") {
		t.Fatalf("hub:error = %s (%v)", e.Args[0], err)
	}
	h.Stop()
}
