package hube2e

import (
	"testing"
)

// TestConnectionStateRecovery: with HUB_RECOVERY_WINDOW (default 2m) a
// client whose connection drops and comes back within the window gets its
// socket id, its rooms and the events it missed (here an API publish sent
// while it was away); with HUB_RECOVERY_WINDOW=0 it starts a new session.
func TestConnectionStateRecovery(t *testing.T) {
	needNode(t)
	t.Parallel()
	for _, tt := range []struct {
		name      string
		window    string
		recovered bool
	}{
		{"default window", "", true},
		{"off", "0", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"HUB_API_KEY": "k"}
			if tt.window != "" {
				env["HUB_RECOVERY_WINDOW"] = tt.window
			}
			h := startHub(t, env)
			lb := startProxy(t, h.addr)
			p := startPuppet(t)
			first := p.Connect("c", lb.URL(), map[string]any{
				"transports": []string{"websocket"}, "reconnectionDelay": 300, "reconnectionDelayMax": 300,
			})
			if first.Type != "connect" || first.Recovered {
				t.Fatalf("first connect: %+v", first)
			}
			ok(t, "join", p.Call("c", "join", "room"))
			// One event before the blip, so the client holds an offset.
			from := p.Len()
			if st, _ := post(t, h.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"before","data":1}`); st != 202 {
				t.Fatal("publish before")
			}
			p.WaitFrom(from, "before", func(e event) bool { return e.ID == "c" && e.Event == "before" })

			from = p.Len()
			lb.DropAll()
			p.WaitFrom(from, "disconnect", func(e event) bool { return e.ID == "c" && e.Type == "disconnect" })
			if st, _ := post(t, h.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"missed","data":2}`); st != 202 {
				t.Fatal("publish while away")
			}
			again, _ := p.WaitFrom(from, "reconnect", func(e event) bool { return e.ID == "c" && e.Type == "connect" })
			if again.Recovered != tt.recovered || (again.SID == first.SID) != tt.recovered {
				t.Fatalf("reconnect: recovered=%v sid same=%v, want %v", again.Recovered, again.SID == first.SID, tt.recovered)
			}
			if !tt.recovered {
				return
			}
			e, _ := p.WaitFrom(from, "missed event replayed", func(e event) bool { return e.ID == "c" && e.Event == "missed" })
			if got := payload(t, e, 1); got[0] != "2" {
				t.Fatalf("missed = %s", got)
			}
			// Rooms came back too: a new publish arrives without re-joining,
			// and the replica still counts the room.
			from = p.Len()
			if st, _ := post(t, h.url+"/api/v1/publish", "Bearer k", "application/json", `{"room":"room","event":"after","data":3}`); st != 202 {
				t.Fatal("publish after")
			}
			p.WaitFrom(from, "after", func(e event) bool { return e.ID == "c" && e.Event == "after" })
			if got := metric(t, h, "hub_rooms"); got != 1 {
				t.Fatalf("hub_rooms after recovery = %v", got)
			}
			h.Stop()
		})
	}
}
