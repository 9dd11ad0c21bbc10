package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/hub"
	"github.com/hubkit/hubkit/service/redisadapter"
)

// redisConnectTimeout bounds the first connection to Redis at start.
const redisConnectTimeout = 10 * time.Second

// adapterWiring is the namespace adapter chosen from the settings.
type adapterWiring struct {
	factory adapter.Factory // nil = in-memory
	ready   func() bool     // nil = always ready
	close   func() error    // nil = nothing to close
	// noRecovery: the adapter keeps no sessions (Redis classic, sharded),
	// so connection state recovery is turned off rather than half on.
	noRecovery bool
}

// newAdapter returns the in-memory adapter without REDIS_URL, else the Redis
// adapter in HUB_REDIS_MODE, its metrics on the hub's registry.
func newAdapter(ctx context.Context, s hub.Settings, m *hub.Metrics, log *slog.Logger) (adapterWiring, error) {
	if s.RedisURL == "" {
		log.Info("adapter: in-memory (single node); set REDIS_URL to cluster")
		return adapterWiring{}, nil
	}
	mode, err := redisadapter.ParseMode(s.RedisMode)
	if err != nil {
		return adapterWiring{}, fmt.Errorf("%s=%s: %w", hub.EnvRedisMode, s.RedisMode, err)
	}
	ctx, cancel := context.WithTimeout(ctx, redisConnectTimeout)
	defer cancel()
	cl, err := redisadapter.New(ctx, redisadapter.Config{
		URL: s.RedisURL, Mode: mode, Logger: log, Registerer: m.Registry(), RecoveryWindow: s.RecoveryWindow,
	})
	if err != nil {
		return adapterWiring{}, fmt.Errorf("redis adapter: %w", err)
	}
	noRecovery := mode != redisadapter.ModeStreams
	if noRecovery && s.RecoveryWindow > 0 {
		log.Info("adapter: no connection state recovery in this mode (HUB_REDIS_MODE=streams has it)", "mode", string(mode))
	}
	log.Info("adapter: redis", "mode", string(mode))
	return adapterWiring{factory: cl.Factory(), ready: cl.Ready, close: cl.Close, noRecovery: noRecovery}, nil
}
