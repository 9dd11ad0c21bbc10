package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Sockets is what the hub needs from its Socket.IO stack: an HTTP handler for
// /socket.io/, server-side publishing, and a Close that releases the stack
// and its adapter (Redis) — called last during a drain. If it also has a
// Ready() bool method (e.g. waiting for the Redis subscription), /readyz
// reports not-ready while it returns false.
type Sockets interface {
	http.Handler
	Publisher
	Close(ctx context.Context) error
}

// Conn is one client connection as the drain sees it.
type Conn interface {
	Close() error
}

// Config configures [New].
type Config struct {
	// Settings is the validated environment (see [ConfigFromEnv]).
	Settings Settings
	// Sockets is the Socket.IO stack. Required.
	Sockets Sockets
	// Metrics; nil = NewMetrics().
	Metrics *Metrics
	// Logger; nil = discard.
	Logger *slog.Logger
	// ReadinessGrace is how long, after a drain starts, /readyz reports
	// not-ready while the listener stays open (so load balancers notice).
	// Zero = DrainWindow/10, at most 2s.
	ReadinessGrace time.Duration
}

// Hub is the hub's HTTP application: Socket.IO, publish API, health, metrics
// and the drain. Its methods are safe for concurrent use; Serve is called
// once.
type Hub struct {
	cfg     Config
	sockets Sockets
	metrics *Metrics
	log     *slog.Logger
	api     *PublishAPI
	origins OriginPolicy
	handler http.Handler

	ready    atomic.Bool
	draining atomic.Bool
	served   atomic.Bool
	conns    atomic.Pointer[connTracker]

	// onDrainPhase, when set (tests), is called as the drain enters each
	// phase: "not-ready", "listener-closed", "clients-closed", "closed".
	onDrainPhase func(phase string)
}

// New validates the config and builds the hub.
func New(cfg Config) (*Hub, error) {
	if cfg.Sockets == nil {
		return nil, errors.New("hub: Config.Sockets is required")
	}
	s := cfg.Settings
	if s.DrainWindow < 0 {
		return nil, errors.New("hub: negative drain window")
	}
	if s.Env == Production && !s.AuthEnabled() {
		return nil, errors.New("hub: refusing to run open (no JWT key) with HUB_ENV=production")
	}
	h := &Hub{cfg: cfg, sockets: cfg.Sockets, metrics: cfg.Metrics, log: orDiscard(cfg.Logger)}
	if h.metrics == nil {
		h.metrics = NewMetrics()
	}
	if h.cfg.ReadinessGrace <= 0 {
		h.cfg.ReadinessGrace = min(s.DrainWindow/10, 2*time.Second)
	}
	var err error
	if h.origins, err = NewOriginPolicy(s.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("hub: %s: %w", EnvAllowedOrigins, err)
	}
	maxBody := int64(s.MaxPayload)
	if h.api, err = NewPublishAPI(PublishAPIConfig{
		APIKey: s.APIKey, MaxBody: maxBody, Publisher: cfg.Sockets, Metrics: h.metrics, Logger: h.log,
	}); err != nil {
		return nil, err
	}
	h.handler = h.routes()
	h.metrics.setReady(false)
	return h, nil
}

// Metrics returns the hub's metrics.
func (h *Hub) Metrics() *Metrics { return h.metrics }

// Handler returns the hub's HTTP routes.
func (h *Hub) Handler() http.Handler { return h.handler }

// Ready reports whether the hub accepts new clients.
func (h *Hub) Ready() bool { return h.ready.Load() }

func (h *Hub) socketsReady() bool {
	if r, ok := h.sockets.(interface{ Ready() bool }); ok {
		return r.Ready()
	}
	return true
}

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case h.draining.Load():
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		case !h.ready.Load() || !h.socketsReady():
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		}
	})
	mux.Handle("GET /metrics", h.metrics.Handler())
	mux.Handle("/api/v1/publish", h.api)
	sio := h.origins.Middleware(h.refuseWhileDraining(h.sockets), func() { h.metrics.Error("origin_refused") })
	if id := h.cfg.Settings.ReplicaID; id != "" {
		next := sio
		sio = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Hub-Replica", id)
			next.ServeHTTP(w, r)
		})
	}
	mux.Handle("/socket.io/", sio)
	return mux
}

// refuseWhileDraining answers new Engine.IO handshakes (no sid) with 503
// once the drain started; requests of existing sessions pass.
func (h *Hub) refuseWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.draining.Load() && r.URL.Query().Get("sid") == "" {
			h.metrics.Error("draining")
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "server is draining, reconnect to another replica")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves on ln until ctx is done, then drains within the drain window:
// readiness false and new handshakes refused, then (after ReadinessGrace) the
// listener closed, then client connections closed in batches across the
// window, then the socket layer (and Redis) closed last. It returns nil after
// a clean drain, and the serve error if the listener fails.
func (h *Hub) Serve(ctx context.Context, ln net.Listener) error {
	if !h.served.CompareAndSwap(false, true) {
		return errors.New("hub: Serve called twice")
	}
	srv := &http.Server{
		Handler:           h.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	tracked := trackConns(ln)
	h.conns.Store(tracked)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(tracked) }()
	h.ready.Store(true)
	h.metrics.setReady(true)
	set := h.cfg.Settings
	h.log.Info("hub listening", "addr", ln.Addr().String(), "env", set.Env,
		"auth", set.AuthEnabled(), "redis", set.RedisURL != "", "publish_api", set.APIKey != "",
		"allowed_origins", len(set.AllowedOrigins), "drain_window", set.DrainWindow)

	select {
	case err := <-serveErr:
		h.ready.Store(false)
		h.metrics.setReady(false)
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.sockets.Close(closeCtx)
		return fmt.Errorf("hub: serve: %w", err)
	case <-ctx.Done():
	}
	return h.drain(srv, tracked, serveErr)
}

func (h *Hub) drain(srv *http.Server, conns *connTracker, serveErr <-chan error) error {
	window := h.cfg.Settings.DrainWindow
	start := time.Now()
	deadline := start.Add(window)
	h.log.Info("drain started", "window", window)
	h.draining.Store(true)
	h.ready.Store(false)
	h.metrics.setReady(false)
	h.phase("not-ready")

	// Let load balancers see readiness false before the listener goes away.
	sleepUntil(start.Add(min(h.cfg.ReadinessGrace, window/2)))

	// Close the listener; Shutdown then waits for in-flight HTTP requests
	// (held polling GETs end when their connections close below).
	shutdownCtx, cancelShutdown := context.WithDeadline(context.Background(), start.Add(window*9/10))
	defer cancelShutdown()
	var wg sync.WaitGroup
	wg.Add(1)
	var shutdownErr error
	go func() {
		defer wg.Done()
		shutdownErr = srv.Shutdown(shutdownCtx)
	}()
	<-conns.closed // Shutdown closes the listener first thing
	h.phase("listener-closed")

	closed := closeInBatches(conns.Conns, start.Add(window*8/10), sleepUntil, h.log)
	h.log.Info("drain: clients closed", "count", closed, "elapsed", time.Since(start).Round(time.Millisecond))
	h.phase("clients-closed")

	wg.Wait()
	if shutdownErr != nil {
		h.log.Warn("drain: forcing remaining HTTP connections closed", "err", shutdownErr)
		_ = srv.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		h.log.Warn("drain: serve ended with error", "err", err)
	}
	// Redis (via the socket layer's adapter) closes last.
	// The wait is bounded by the window: a hung Redis must not keep the
	// process past it (the close goroutine is abandoned, the process exits).
	// With a tiny window the close still gets a moment to flush Redis.
	closeCtx, cancel := context.WithDeadline(context.Background(), later(deadline, time.Now().Add(250*time.Millisecond)))
	defer cancel()
	closed2 := make(chan error, 1)
	go func() { closed2 <- h.sockets.Close(closeCtx) }()
	select {
	case err := <-closed2:
		if err != nil {
			h.log.Warn("drain: closing socket layer", "err", err)
		}
	case <-closeCtx.Done():
		h.log.Warn("drain: socket layer did not close within the drain window")
	}
	h.phase("closed")
	h.log.Info("drain finished", "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func (h *Hub) phase(p string) {
	if h.onDrainPhase != nil {
		h.onDrainPhase(p)
	}
}

// drainStep is the shortest pause between two batches.
const drainStep = 50 * time.Millisecond

// closeInBatches closes every connection returned by conns, spread evenly
// until until, so clients do not reconnect elsewhere all at once. It returns
// how many connections it closed.
func closeInBatches(conns func() []Conn, until time.Time, sleep func(time.Time), log *slog.Logger) int {
	list := conns()
	total := 0
	if len(list) > 0 {
		spread := time.Until(until)
		batches := 1
		if spread > drainStep {
			batches = int(min(int64(len(list)), int64(spread/drainStep)))
		}
		size := (len(list) + batches - 1) / batches
		interval := spread / time.Duration(batches)
		next := time.Now()
		for i := 0; i < len(list); i += size {
			sleep(next)
			end := min(i+size, len(list))
			for _, c := range list[i:end] {
				if err := c.Close(); err != nil {
					log.Debug("drain: close", "err", err)
				}
			}
			total += end - i
			next = next.Add(interval)
		}
	}
	// Anything that slipped in meanwhile goes now (Close is idempotent).
	for _, c := range conns() {
		_ = c.Close()
	}
	return total
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
