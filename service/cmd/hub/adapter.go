package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/hub"
)

// adapterWiring is the namespace adapter chosen from the settings.
type adapterWiring struct {
	factory adapter.Factory // nil = in-memory
	ready   func() bool     // nil = always ready
	close   func() error    // nil = nothing to close
}

// newAdapter returns the in-memory adapter without REDIS_URL, else the Redis
// adapter in HUB_REDIS_MODE.
func newAdapter(_ context.Context, s hub.Settings, _ *hub.Metrics, log *slog.Logger) (adapterWiring, error) {
	if s.RedisURL == "" {
		log.Info("adapter: in-memory (single node); set REDIS_URL to cluster")
		return adapterWiring{}, nil
	}
	return adapterWiring{}, errors.New("REDIS_URL is set but the Redis adapter is not wired yet")
}
