package hube2e

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestSocketIDRoomsArePrivate: an attacker socket (real socket.io-client)
// that knows a victim's socket id can neither join the room named after it
// nor publish to it — in open mode, under a "*" grant, and with the victim
// on another replica — and a backend's private message to the victim's id
// never reaches the attacker.
func TestSocketIDRoomsArePrivate(t *testing.T) {
	needNode(t)
	t.Parallel()
	const key = "k"
	secret := "e2e-shared-secret-of-some-length"
	tests := []struct {
		name    string
		cluster bool
		env     map[string]string
		auth    func(t *testing.T) map[string]any // socket.io-client auth option; nil = none
	}{
		{name: "open mode", env: map[string]string{}},
		{name: "wildcard grant", env: map[string]string{"HUB_JWT_SECRET": secret}, auth: func(t *testing.T) map[string]any {
			return map[string]any{"token": token(t, jwt.SigningMethodHS256, []byte(secret), time.Hour, []string{"*"}, []string{"*"})}
		}},
		{name: "victim on another replica", cluster: true, env: map[string]string{"HUB_REDIS_MODE": "classic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.env["HUB_API_KEY"] = key
			if tt.cluster {
				tt.env["REDIS_URL"] = testenv.RedisServer(t).URL()
			}
			a := startHub(t, tt.env) // the attacker's replica, where backends publish
			b := a
			if tt.cluster {
				b = startHub(t, tt.env)
			}
			p := startPuppet(t)
			opts := map[string]any{"transports": []string{"websocket"}}
			if tt.auth != nil {
				opts["auth"] = tt.auth(t)
			}
			victim := p.Connect("victim", b.url, opts)
			attacker := p.Connect("attacker", a.url, opts)
			if victim.Type != "connect" || attacker.Type != "connect" {
				t.Fatalf("connect: %+v %+v", victim, attacker)
			}

			ackErr(t, "join the victim's id", p.Call("attacker", "join", victim.SID), "looks like a socket id")
			ackErr(t, "join its own id", p.Call("attacker", "join", attacker.SID), "looks like a socket id")
			ackErr(t, "publish to the victim's id", p.Call("attacker", "publish", victim.SID, "fake", 1), "looks like a socket id")
			ok(t, "join ctl", p.Call("attacker", "join", "ctl"))

			// The backend's private message reaches the victim; then a marker
			// published on the same replica reaches the attacker, which
			// would have got the private message first had it been in the
			// victim's room.
			from := p.Len()
			if st, body := post(t, a.url+"/api/v1/publish", "Bearer "+key, "application/json",
				`{"room":"`+victim.SID+`","event":"private","data":"secret"}`); st != 202 {
				t.Fatalf("private publish: %d %v", st, body)
			}
			e, _ := p.WaitFrom(from, "victim gets private", func(e event) bool { return e.ID == "victim" && e.Event == "private" })
			if got := payload(t, e, 1); got[0] != `"secret"` {
				t.Fatalf("victim got %s", got)
			}
			if st, body := post(t, a.url+"/api/v1/publish", "Bearer "+key, "application/json",
				`{"room":"ctl","event":"marker"}`); st != 202 {
				t.Fatalf("marker publish: %d %v", st, body)
			}
			p.WaitFrom(from, "attacker gets marker", func(e event) bool { return e.ID == "attacker" && e.Event == "marker" })
			if got := received(p, "attacker", "private"); len(got) != 0 {
				t.Fatalf("attacker received the victim's private message: %+v", got)
			}
			if got := received(p, "victim", "fake"); len(got) != 0 {
				t.Fatalf("victim received the attacker's forged event: %+v", got)
			}
			if got := metric(t, a, `hub_errors_total{reason="join_socket_room"}`); got != 2 {
				t.Errorf("join_socket_room = %v, want 2", got)
			}
			a.Stop()
			if tt.cluster {
				b.Stop()
			}
		})
	}
}
