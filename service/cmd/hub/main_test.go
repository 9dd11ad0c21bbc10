package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad values", map[string]string{"HUB_PING_INTERVAL": "x", "HUB_WRITE_QUEUE": "0"}, []string{"invalid configuration", "HUB_PING_INTERVAL", "HUB_WRITE_QUEUE"}},
		{"production open", map[string]string{"HUB_ENV": "production"}, []string{"REDIS_URL", "HUB_JWT_SECRET"}},
		{"unreachable redis", map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "HUB_REDIS_MODE": "streams"}, []string{"redis adapter", "ping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), envMap(tt.env), io.Discard)
			if err == nil {
				t.Fatal("run accepted the configuration")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

var addrRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// runHub runs run() until the test cancels it and returns the base URL.
func runHub(t *testing.T, env map[string]string) (string, context.CancelFunc, <-chan error, *syncBuffer) {
	t.Helper()
	env["HUB_ADDR"] = "127.0.0.1:0"
	env["HUB_DRAIN_WINDOW"] = "300ms"
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, envMap(env), logs) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := addrRe.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1], cancel, done, logs
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run returned at start: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("hub did not start:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunServesAndDrains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		redis bool
		mode  string
	}{
		{name: "in-memory"},
		{name: "redis classic", redis: true, mode: "classic"},
		{name: "redis sharded", redis: true, mode: "sharded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tt.redis {
				rs := testenv.RedisServer(t)
				env["REDIS_URL"] = rs.URL()
				env["HUB_REDIS_MODE"] = tt.mode
			}
			url, cancel, done, logs := runHub(t, env)
			defer cancel()
			ready, cancelReady := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancelReady()
			if err := testenv.WaitHTTP(ready, url+"/readyz"); err != nil {
				t.Fatalf("never ready: %v\n%s", err, logs)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run after drain: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("run did not return after cancel")
			}
			if !strings.Contains(logs.String(), "drain finished") {
				t.Fatalf("no drain in logs:\n%s", logs)
			}
			if tt.redis && !strings.Contains(logs.String(), "adapter: redis") {
				t.Fatalf("redis adapter not used:\n%s", logs)
			}
		})
	}
}
