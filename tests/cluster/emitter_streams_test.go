package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/internal/testenv"
)

// TestEmitterIntoStreamsHubs: three hub processes (service/cmd/hub) on one
// Redis with their defaults — HUB_REDIS_MODE=streams — and
// HUB_RECOVERY_WINDOW=2m, a real socket.io-client on each, and the real
// npm @socket.io/redis-emitter publishing into them: io.emit, to(room),
// except, to(socket id), socketsJoin and disconnectSockets reach the right
// clients exactly once, emitter events carry a valid offset, and a client
// whose transport is killed after an emitter event recovers
// (socket.recovered) with exactly the stream events it missed. The
// scenario is js/driver.js's "streams" part.
func TestEmitterIntoStreamsHubs(t *testing.T) {
	t.Parallel()
	needNode(t)
	hub := buildHub(t)
	r := newRedis(t)
	s := []*server{
		startHub(t, hub, r.URL(), "hub1"),
		startHub(t, hub, r.URL(), "hub2"),
		startHub(t, hub, r.URL(), "hub3"),
	}
	waitEmitterSubs(t, r.Addr(), int64(len(s)))
	runDriver(t, r.URL(), "streams", true, s...)
}

// buildHub builds service/cmd/hub into the test's temporary directory.
func buildHub(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hub")
	build := exec.Command("go", "build", "-o", bin, "./service/cmd/hub")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./service/cmd/hub: %v\n%s", err, out)
	}
	return bin
}

var hubListening = regexp.MustCompile(`hub listening.*"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)

// startHub runs the hub binary with only REDIS_URL, a loopback address and
// a 2-minute recovery window set (every other HUB_ variable unset, so the
// Redis mode is the default), waits for its "hub listening" log line and
// kills it by PID at cleanup.
func startHub(t *testing.T, bin, redisURL, name string) *server {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUB_") && !strings.HasPrefix(kv, "REDIS_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "REDIS_URL="+redisURL, "HUB_ADDR=127.0.0.1:0", "HUB_RECOVERY_WINDOW=2m",
		"HUB_DRAIN_WINDOW=1s")
	return startCmd(t, name, cmd, func(line string) (string, bool) {
		if m := hubListening.FindStringSubmatch(line); m != nil {
			return "http://" + m[1], true
		}
		return "", false
	})
}

// waitEmitterSubs waits until n servers listen to the emitter's channels:
// its request channel and the room-channel pattern (one per server: no
// other client of this Redis subscribes a pattern).
func waitEmitterSubs(t *testing.T, addr string, n int64) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		subs, err1 := c.PubSubNumSub(ctx, "socket.io-request#/#").Result()
		// NUMPAT counts distinct patterns: count the connections instead
		list, err2 := c.ClientList(ctx).Result()
		pats := int64(strings.Count(list, " psub=1 "))
		if err1 == nil && err2 == nil && subs["socket.io-request#/#"] == n && pats == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("emitter channels: %d request subscribers, %d patterns, want %d (%v %v)", subs["socket.io-request#/#"], pats, n, err1, err2)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
