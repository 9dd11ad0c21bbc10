package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// Publisher delivers one event to every socket in a room, on every replica.
// It is what the publish API and the client contract need from the
// Socket.IO layer.
type Publisher interface {
	Publish(ctx context.Context, room, event string, data json.RawMessage) error
}

// PublishRequest is the body of POST /api/v1/publish.
type PublishRequest struct {
	Room  string          `json:"room"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// reservedEvents cannot be emitted: socket.io clients treat them specially.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// hubEventPrefix starts the events only the hub emits (EventError), so no
// publisher can forge them.
const hubEventPrefix = "hub:"

// maxNameLen bounds room and event names (bytes).
const maxNameLen = 256

// validateTarget checks a room and event name; the error text names the field.
func validateTarget(room, event string) error {
	switch {
	case room == "":
		return errors.New(`"room" is required (a non-empty string)`)
	case len(room) > maxNameLen:
		return fmt.Errorf(`"room" is longer than %d bytes`, maxNameLen)
	case event == "":
		return errors.New(`"event" is required (a non-empty string)`)
	case len(event) > maxNameLen:
		return fmt.Errorf(`"event" is longer than %d bytes`, maxNameLen)
	case reservedEvents[event]:
		return fmt.Errorf(`"event" %q is reserved by Socket.IO`, event)
	case strings.HasPrefix(event, hubEventPrefix):
		return fmt.Errorf(`"event" %q is reserved: names starting with %q belong to the hub`, event, hubEventPrefix)
	}
	return nil
}

// PublishAPIConfig configures [NewPublishAPI].
type PublishAPIConfig struct {
	// APIKey is the bearer key; empty disables the API (503 on every call).
	APIKey string
	// MaxBody bounds the request body in bytes. Zero = DefaultMaxPayload.
	MaxBody int64
	// Publisher receives accepted publishes. Required.
	Publisher Publisher
	// Metrics is optional.
	Metrics *Metrics
	// Logger; nil = discard.
	Logger *slog.Logger
}

// PublishAPI is the http.Handler of POST /api/v1/publish.
type PublishAPI struct {
	keyHash [sha256.Size]byte
	enabled bool
	maxBody int64
	pub     Publisher
	metrics *Metrics
	log     *slog.Logger
}

// NewPublishAPI returns the publish handler.
func NewPublishAPI(cfg PublishAPIConfig) (*PublishAPI, error) {
	if cfg.Publisher == nil {
		return nil, errors.New("hub: publish API needs a Publisher")
	}
	a := &PublishAPI{
		enabled: cfg.APIKey != "",
		maxBody: cfg.MaxBody,
		pub:     cfg.Publisher,
		metrics: cfg.Metrics,
		log:     orDiscard(cfg.Logger),
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxPayload
	}
	// Comparing fixed-size hashes keeps the compare constant-time regardless
	// of the presented key's length.
	a.keyHash = sha256.Sum256([]byte(cfg.APIKey))
	return a, nil
}

func (a *PublishAPI) fail(w http.ResponseWriter, status int, reason, msg string) {
	a.metrics.apiError(reason)
	writeError(w, status, msg)
}

// ServeHTTP implements http.Handler.
func (a *PublishAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		a.fail(w, http.StatusMethodNotAllowed, "method", "method "+r.Method+" not allowed (use POST)")
		return
	}
	if !a.enabled {
		a.fail(w, http.StatusServiceUnavailable, "disabled", "publish API disabled: HUB_API_KEY is not set")
		return
	}
	if !a.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
		a.fail(w, http.StatusUnauthorized, "unauthorized", "missing or wrong API key (send Authorization: Bearer <HUB_API_KEY>)")
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		a.fail(w, http.StatusUnsupportedMediaType, "content_type", fmt.Sprintf("Content-Type %q not supported (use application/json)", ct))
		return
	}
	if r.ContentLength > a.maxBody {
		a.fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", a.maxBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", a.maxBody))
			return
		}
		a.fail(w, http.StatusBadRequest, "read", "could not read body")
		return
	}
	req, err := decodePublish(body)
	if err != nil {
		a.fail(w, http.StatusBadRequest, "bad_body", err.Error())
		return
	}
	if err := a.pub.Publish(r.Context(), req.Room, req.Event, req.Data); err != nil {
		a.log.Warn("publish API: publish failed", "room", req.Room, "event", req.Event, "err", err)
		a.fail(w, http.StatusServiceUnavailable, "publish_failed", "publish failed: "+err.Error())
		return
	}
	a.metrics.messageIn("api")
	writeJSON(w, http.StatusAccepted, map[string]any{"ok": true})
}

func (a *PublishAPI) authorized(header string) bool {
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return subtle.ConstantTimeCompare(h[:], a.keyHash[:]) == 1
}

// decodePublish parses and validates a publish body; errors name the problem.
func decodePublish(body []byte) (PublishRequest, error) {
	var req PublishRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, errors.New("empty body (want {\"room\",\"event\",\"data\"})")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return req, fmt.Errorf("%q must be a %s, not %s", te.Field, fieldKind(te.Field), te.Value)
		case errors.As(err, &te):
			return req, fmt.Errorf("body must be a JSON object, not %s", te.Value)
		case errors.As(err, &se):
			return req, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return req, fmt.Errorf("unknown field %s (want room, event, data)", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return req, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return req, errors.New("trailing data after the JSON object")
	}
	if err := validateTarget(req.Room, req.Event); err != nil {
		return req, err
	}
	return req, nil
}

func fieldKind(field string) string {
	if field == "data" {
		return "JSON value"
	}
	return "string"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
