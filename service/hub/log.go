package hub

import (
	"io"
	"log/slog"
)

// NewLogger returns the hub's logger: JSON lines in production, text
// otherwise, at the configured level.
func NewLogger(w io.Writer, s Settings) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.LogLevel}
	var h slog.Handler
	if s.Env == Production {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("service", "hub")
}
