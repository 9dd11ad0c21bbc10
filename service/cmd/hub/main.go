// Command hub runs the hubkit realtime hub: a Socket.IO v4 server with the
// join/leave/publish client contract, the HTTP publish API, health, metrics
// and a staggered drain on SIGTERM. It is configured from the environment
// (see package service/hub).
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	// The hub image is FROM scratch: without a system CA bundle, rediss://
	// to a managed Redis would fail. The fallback roots are used only when
	// the system has none.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/hubkit/hubkit/service/hub"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		os.Exit(1)
	}
}

// run wires the hub from the environment and serves until SIGTERM/SIGINT,
// then drains. It returns nil after a clean drain.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()

	settings, err := hub.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := hub.NewLogger(stderr, settings)
	if id := getenv("HUB_REPLICA_ID"); id != "" {
		log = log.With("replica", id)
	}
	metrics := hub.NewMetrics()

	ad, err := newAdapter(ctx, settings, metrics, log)
	if err != nil {
		return err
	}
	if ad.noRecovery {
		settings.RecoveryWindow = 0
	}
	sockets, err := hub.NewSocketIO(hub.SocketIOConfig{
		Settings: settings, Adapter: ad.factory, Ready: ad.ready, CloseAdapter: ad.close,
		Metrics: metrics, Logger: log,
	})
	if err != nil {
		if ad.close != nil {
			_ = ad.close()
		}
		return err
	}
	h, err := hub.New(hub.Config{Settings: settings, Sockets: sockets, Metrics: metrics, Logger: log})
	if err != nil {
		_ = sockets.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", settings.Addr)
	if err != nil {
		_ = sockets.Close(ctx)
		return fmt.Errorf("listen %s: %w", settings.Addr, err)
	}
	return h.Serve(ctx, ln)
}
