package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// StartTB starts a control plane for a test and stops it in t.Cleanup,
// printing the components' log tails if the test failed. It skips under
// -short. When the binaries are missing it skips the test, unless env CI is
// set, where it fails: CI must have run tests/tools/build-k8s.sh. Start is
// bounded by two minutes.
func StartTB(t testing.TB) *ControlPlane {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no control plane")
	}
	bin := DefaultBinDir()
	if miss := Missing(bin); len(miss) > 0 {
		testenv.Require(t, "control plane binaries in "+bin,
			fmt.Errorf("%s not built; run tests/tools/build-k8s.sh", strings.Join(miss, ", ")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := Config{BinDir: bin, Logger: log, KeepDir: os.Getenv("HUBKIT_KEEP_K8S") != ""}
	cp, err := Start(ctx, cfg)
	if err != nil && strings.Contains(err.Error(), "address already in use") {
		// A free port was taken by another process between our probe and
		// the component's bind: once more with fresh ports.
		t.Logf("control plane start: port taken, retrying: %v", err)
		cp, err = Start(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control plane logs:\n%s", cp.Logs(40))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := cp.Stop(ctx); err != nil {
			t.Errorf("stop control plane: %v", err)
		}
		t.Logf("control plane stopped in %s", time.Since(start).Round(time.Millisecond))
	})
	return cp
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// WaitFor polls check every 250ms until it returns nil, and fails t with
// the last error when ctx ends first.
func WaitFor(ctx context.Context, t testing.TB, what string, check func() error) {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
