package hube2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestAckTimeoutsFromNodeReplica: a Node socket.io server in the hub's
// cluster (@socket.io/redis-adapter, classic mode) broadcasts with
// io.timeout(t).emitWithAck to a room whose members are socket.io-client
// sockets on the Go hub; they never acknowledge. Node reports the timeout
// and the hub's hub_acks_timed_out_total counts one per silent socket.
func TestAckTimeoutsFromNodeReplica(t *testing.T) {
	needNode(t)
	t.Parallel()
	rs := testenv.RedisServer(t)
	h := startHub(t, map[string]string{"REDIS_URL": rs.URL(), "HUB_REDIS_MODE": "classic"})
	p := startPuppet(t)
	for id, transport := range map[string]string{"ws": "websocket", "poll": "polling"} {
		if e := p.Connect(id, h.url, map[string]any{"transports": []string{transport}}); e.Type != "connect" {
			t.Fatalf("%s: %+v", id, e)
		}
		ok(t, id+" join", p.Call(id, "join", "asked"))
	}
	if got := metric(t, h, "hub_acks_timed_out_total"); got != 0 {
		t.Fatalf("hub_acks_timed_out_total = %v before any ack was asked for", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(repoRoot, "tests", "hube2e", "js", "ackemit.js"),
		rs.URL(), "asked", "question", "500", "2")
	cmd.Env = append(os.Environ(), "HUBKIT_ROOT="+repoRoot)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ackemit.js: %v\n%s", err, out)
	}
	var res struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "operation has timed out" {
		t.Fatalf("ackemit.js result %q (%v), want a timeout", out, err)
	}
	for _, id := range []string{"ws", "poll"} {
		p.WaitFrom(0, id+" gets the question", func(e event) bool { return e.ID == id && e.Event == "question" })
	}
	waitUntil(t, "both silent sockets counted", func() bool { return metric(t, h, "hub_acks_timed_out_total") >= 2 })
	if got := metric(t, h, "hub_acks_timed_out_total"); got != 2 {
		t.Errorf("hub_acks_timed_out_total = %v, want 2", got)
	}
	if got := metric(t, h, "hub_messages_out_total"); got != 2 {
		t.Errorf("hub_messages_out_total = %v, want 2", got)
	}
	h.Stop()
}
