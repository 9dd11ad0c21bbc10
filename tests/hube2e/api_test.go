package hube2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, auth, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("POST %s: non-JSON body %q", url, b)
	}
	return res.StatusCode, v
}

// TestPublishAPI: a backend publishes with the bearer key and a joined
// socket.io-client receives it; bad requests get a 4xx naming the problem.
func TestPublishAPI(t *testing.T) {
	needNode(t)
	t.Parallel()
	const key = "e2e-api-key"
	h := startHub(t, map[string]string{"HUB_API_KEY": key, "HUB_MAX_PAYLOAD": "4096"})
	p := startPuppet(t)
	api := h.url + "/api/v1/publish"
	bearer := "Bearer " + key

	if e := p.Connect("sub", h.url, nil); e.Type != "connect" {
		t.Fatalf("connect: %+v", e)
	}
	ok(t, "join", p.Call("sub", "join", "orders:42"))
	from := p.Len()
	st, body := post(t, api, bearer, "application/json", `{"room":"orders:42","event":"order.updated","data":{"id":42,"status":"shipped"}}`)
	if st != 202 || body["ok"] != true {
		t.Fatalf("publish: %d %v", st, body)
	}
	e, _ := p.WaitFrom(from, "API event", func(e event) bool { return e.ID == "sub" && e.Event == "order.updated" })
	if got := payload(t, e, 1); got[0] != `{"id":42,"status":"shipped"}` {
		t.Fatalf("received %s", got)
	}

	tests := []struct {
		name, auth, ctype, body string
		status                  int
		contains                string
	}{
		{"no key", "", "application/json", `{"room":"r","event":"e"}`, 401, "API key"},
		{"wrong key", "Bearer nope", "application/json", `{"room":"r","event":"e"}`, 401, "API key"},
		{"form body", bearer, "application/x-www-form-urlencoded", `room=r`, 415, "application/json"},
		{"too large", bearer, "application/json", `{"room":"r","event":"e","data":"` + strings.Repeat("x", 5000) + `"}`, 413, "larger than 4096"},
		{"not JSON", bearer, "application/json", `{"room":`, 400, "invalid JSON"},
		{"room missing", bearer, "application/json", `{"event":"e","data":1}`, 400, `"room" is required`},
		{"event not string", bearer, "application/json", `{"room":"r","event":7}`, 400, `"event" must be a string`},
		{"unknown field", bearer, "application/json", `{"room":"r","event":"e","payload":1}`, 400, `unknown field "payload"`},
		{"reserved event", bearer, "application/json", `{"room":"r","event":"connect"}`, 400, "reserved"},
	}
	for _, tt := range tests {
		st, body := post(t, api, tt.auth, tt.ctype, tt.body)
		msg, _ := body["error"].(string)
		if st != tt.status || !strings.Contains(msg, tt.contains) {
			t.Errorf("%s: %d %v, want %d with %q", tt.name, st, body, tt.status, tt.contains)
		}
	}
	if st, _ := httpGet(api); st != http.StatusMethodNotAllowed {
		t.Errorf("GET publish = %d", st)
	}
	h.Stop()
}

// TestMetricsMove: /metrics follows traffic — connections by transport,
// rooms, messages in (client and API) and out, errors by reason.
func TestMetricsMove(t *testing.T) {
	needNode(t)
	t.Parallel()
	const key = "k"
	h := startHub(t, map[string]string{"HUB_API_KEY": key})
	p := startPuppet(t)
	m := func(s string) float64 { return metric(t, h, s) }

	if m(`hub_connections{transport="websocket"}`) != 0 || m("hub_rooms") != 0 || m("hub_messages_out_total") != 0 {
		t.Fatal("metrics not zero at start")
	}
	p.Connect("ws", h.url, map[string]any{"transports": []string{"websocket"}})
	p.Connect("poll", h.url, map[string]any{"transports": []string{"polling"}})
	waitUntil(t, "connections counted", func() bool {
		return m(`hub_connections{transport="websocket"}`) == 1 && m(`hub_connections{transport="polling"}`) == 1
	})
	ok(t, "ws join", p.Call("ws", "join", "a"))
	ok(t, "poll join a", p.Call("poll", "join", "a"))
	ok(t, "poll join b", p.Call("poll", "join", "b"))
	if got := m("hub_rooms"); got != 2 {
		t.Fatalf("hub_rooms = %v, want 2", got)
	}
	ok(t, "publish", p.Call("ws", "publish", "a", "x", 1))
	p.WaitFrom(0, "poll gets x", func(e event) bool { return e.ID == "poll" && e.Event == "x" })
	if st, _ := post(t, h.url+"/api/v1/publish", "Bearer "+key, "application/json", `{"room":"a","event":"y"}`); st != 202 {
		t.Fatalf("API publish: %d", st)
	}
	p.WaitFrom(0, "ws gets y", func(e event) bool { return e.ID == "ws" && e.Event == "y" })
	p.WaitFrom(0, "poll gets y", func(e event) bool { return e.ID == "poll" && e.Event == "y" })
	ackErr(t, "bad join", p.Call("ws", "join", ""), "non-empty")
	post(t, h.url+"/api/v1/publish", "Bearer wrong", "application/json", `{}`)

	checks := map[string]float64{
		`hub_messages_in_total{source="client"}`:      1,
		`hub_messages_in_total{source="api"}`:         1,
		`hub_messages_out_total`:                      3, // x to poll, y to ws and poll
		`hub_errors_total{reason="join_bad_room"}`:    1,
		`hub_errors_total{reason="api_unauthorized"}`: 1,
		`hub_ready`:                           1,
		`hub_slow_consumer_disconnects_total`: 0,
	}
	for s, want := range checks {
		if got := m(s); got != want {
			t.Errorf("%s = %v, want %v", s, got, want)
		}
	}
	p.Close("poll")
	waitUntil(t, "polling connection gone and its room b released", func() bool {
		return m(`hub_connections{transport="polling"}`) == 0 && m("hub_rooms") == 1
	})
	h.Stop()
}
