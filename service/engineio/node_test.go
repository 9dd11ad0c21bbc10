package engineio

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// nodeClientScript drives the real engine.io-client: it sends a text and a
// binary message, waits for both echoes (and for the websocket upgrade when
// asked), holds the session for holdMs so heartbeats run, sends "final",
// waits for its echo and closes. It prints what it saw as JSON.
const nodeClientScript = `
const { Socket } = require("engine.io-client");
const [url, transports, expectUpgrade, holdMs] = [process.argv[2], JSON.parse(process.argv[3]), process.argv[4] === "true", +process.argv[5]];
const socket = new Socket(url, { path: "/engine.io/", transports });
const seen = [];
let phase = 0, echoes = 0;
const finish = () => setTimeout(() => { phase = 2; socket.send("final"); }, holdMs);
socket.on("open", () => {
  seen.push("open:" + socket.transport.name);
  socket.send("hello €");
  socket.send(Buffer.from([1, 2, 3, 255]));
});
socket.on("upgrade", (t) => { seen.push("upgrade:" + t.name); if (phase === 1) finish(); });
socket.on("message", (m) => {
  seen.push(typeof m === "string" ? "text:" + m : "binary:" + Buffer.from(m).toString("hex"));
  if (phase === 0 && ++echoes === 2) {
    phase = 1;
    if (!expectUpgrade || socket.transport.name === "websocket") finish();
  } else if (phase === 2) {
    socket.close();
  }
});
// "close" fires before the transport sends its close (a POST "1" over
// polling): let it go out before exiting.
socket.on("close", (reason) => { seen.push("close:" + reason); console.log(JSON.stringify(seen)); setTimeout(() => process.exit(0), 300); });
socket.on("error", (e) => { console.error("error", e); process.exit(1); });
setTimeout(() => { console.error("timeout", JSON.stringify(seen)); process.exit(2); }, 10000);
`

func TestNodeClientInterop(t *testing.T) {
	t.Parallel()
	node := testenv.Node(t, "engine.io-client")
	script := filepath.Join(t.TempDir(), "client.js")
	if err := os.WriteFile(script, []byte(nodeClientScript), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		transports string
		upgrade    bool
		open       string
	}{
		{"polling then websocket", `["polling","websocket"]`, true, "open:polling"},
		{"websocket only", `["websocket"]`, false, "open:websocket"},
		{"polling only", `["polling"]`, false, "open:polling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, Config{PingInterval: 40 * time.Millisecond, PingTimeout: 500 * time.Millisecond}, true)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node.Bin, script, ts.http.URL, tt.transports, map[bool]string{true: "true", false: "false"}[tt.upgrade], "200")
			cmd.Env = node.Env()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node client: %v\n%s", err, out)
			}
			var seen []string
			if err := json.Unmarshal(out, &seen); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			joined := strings.Join(seen, " | ")
			for _, want := range []string{tt.open, "text:hello €", "binary:010203ff", "text:final", "close:forced close"} {
				if !strings.Contains(joined, want) {
					t.Errorf("client saw %s; missing %q", joined, want)
				}
			}
			if got := strings.Contains(joined, "upgrade:websocket"); got != tt.upgrade {
				t.Errorf("upgrade seen=%v, want %v (%s)", got, tt.upgrade, joined)
			}
			// Server side: same session all along, messages in order, closed
			// by the client.
			ts.mu.Lock()
			var s *session
			for _, v := range ts.sessions {
				s = v
			}
			n := len(ts.sessions)
			ts.mu.Unlock()
			if n != 1 {
				t.Fatalf("%d sessions opened", n)
			}
			for _, want := range []string{"hello €", "\x01\x02\x03\xff", "final"} {
				if m := s.next(t); string(m.Data) != want {
					t.Errorf("delivered %q, want %q", m.Data, want)
				}
			}
			if reason := s.waitClosed(t); reason != ReasonTransportClose {
				t.Errorf("server close reason %q", reason)
			}
		})
	}
}
