package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubkit/hubkit/internal/testenv"
)

// testserverBin is built once by TestMain.
var testserverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testserverBin = filepath.Join(dir, "testserver")
	build := exec.Command("go", "build", "-o", testserverBin, "./testserver")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testserver:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// needNode returns the node binary and checks the npm packages are
// installed; skips (fails in CI) when they are not.
func needNode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: multi-process tests")
	}
	return testenv.Node(t, "socket.io-client").Bin
}

// server is one replica process.
type server struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	cmd  *exec.Cmd
	logs *lineLog
}

// lineLog keeps a process' output for failure reports.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// start runs a replica process and waits for its "LISTEN url" line. The
// process is killed by PID at cleanup.
func start(t *testing.T, name string, args ...string) *server {
	t.Helper()
	return startCmd(t, name, exec.Command(args[0], args[1:]...), func(line string) (string, bool) {
		return strings.CutPrefix(line, "LISTEN ")
	})
}

// startCmd starts cmd, keeps its output (both streams) for the failure
// log, and waits until ready recognises a line giving the server's URL.
// The process is killed by PID at cleanup.
func startCmd(t *testing.T, name string, cmd *exec.Cmd, ready func(line string) (url string, ok bool)) *server {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{Name: name, cmd: cmd, logs: &lineLog{}}
	urlCh := make(chan string, 1)
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				line := sc.Text()
				if u, ok := ready(line); ok {
					select {
					case urlCh <- u:
					default:
					}
				}
				s.logs.add(line)
			}
		}()
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		wg.Wait()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, s.logs)
		}
	})
	select {
	case s.URL = <-urlCh:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not start:\n%s", name, s.logs)
	}
	return s
}

func startGo(t *testing.T, redisURL, mode, name string) *server {
	t.Helper()
	return start(t, name, testserverBin, "-redis", redisURL, "-mode", mode, "-name", name)
}

func startNode(t *testing.T, redisURL, mode, name string) *server {
	t.Helper()
	return start(t, name, needNode(t), filepath.Join("js", "node-server.js"), redisURL, mode, name)
}

// waitServers waits until n servers subscribe to the namespace's request
// channel (classic) or main sharded channel.
func waitServers(t *testing.T, addr, mode string, n int) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int64
		if mode == "sharded" {
			res, err := c.PubSubShardNumSub(ctx, "socket.io#/#").Result()
			if err == nil {
				got = res["socket.io#/#"]
			}
		} else {
			res, err := c.PubSubNumSub(ctx, "socket.io-request#/#").Result()
			if err == nil {
				got = res["socket.io-request#/#"]
			}
		}
		if got == int64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d servers subscribed", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitChannel waits until Redis counts n shard subscribers of channel.
func waitChannel(t *testing.T, addr, channel string, n int64) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := c.PubSubShardNumSub(context.Background(), channel).Result()
		if err == nil && res[channel] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d shard subscribers, want %d (%v)", channel, res[channel], n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runDriver runs js/driver.js against servers and turns its verdicts into
// test results.
func runDriver(t *testing.T, redisURL, mode string, emitter bool, servers ...*server) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"servers": servers, "redis": redisURL, "mode": mode, "emitter": emitter})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needNode(t), filepath.Join("js", "driver.js"), string(cfg))
	out, err := cmd.CombinedOutput()
	passes := 0
	summary := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "PASS "):
			passes++
			t.Log(line)
		case strings.HasPrefix(line, "FAIL "):
			t.Error(line)
		case strings.HasPrefix(line, "summary "):
			summary = true
			t.Log(line)
		case line != "":
			t.Log("driver: " + line)
		}
	}
	if err != nil && !t.Failed() {
		t.Errorf("driver: %v", err)
	}
	if !summary || passes == 0 {
		t.Errorf("driver did not finish (%d checks passed)", passes)
	}
}

// listener runs js/listen.js and reports the events its client receives.
type listener struct {
	events chan string
	stdin  io.WriteCloser
}

func listen(t *testing.T, url, room string) *listener {
	t.Helper()
	cmd := exec.Command(needNode(t), filepath.Join("js", "listen.js"), url, room)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &listener{events: make(chan string, 4096), stdin: stdin}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				close(ready)
				continue
			}
			select {
			case l.events <- line:
			default:
			}
		}
		close(l.events)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not get ready")
	}
	return l
}

func newRedis(t *testing.T) *testenv.Redis {
	t.Helper()
	return testenv.RedisServer(t)
}
