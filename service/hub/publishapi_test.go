package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recordingPublisher is a unit-test Publisher that records calls.
type recordingPublisher struct {
	mu    sync.Mutex
	calls []PublishRequest
	err   error
}

func (p *recordingPublisher) Publish(_ context.Context, room, event string, data json.RawMessage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.calls = append(p.calls, PublishRequest{Room: room, Event: event, Data: data})
	return nil
}

func TestPublishAPI(t *testing.T) {
	t.Parallel()
	const key = "test-key"
	tests := []struct {
		name       string
		method     string
		auth       string
		ctype      string
		body       string
		pubErr     error
		noKey      bool
		wantStatus int
		wantErr    string // substring of the JSON error
		wantCall   *PublishRequest
	}{
		{name: "ok", body: `{"room":"r1","event":"news","data":{"a":1}}`, wantStatus: 202,
			wantCall: &PublishRequest{Room: "r1", Event: "news", Data: json.RawMessage(`{"a":1}`)}},
		{name: "ok no data", body: `{"room":"r1","event":"ping"}`, wantStatus: 202,
			wantCall: &PublishRequest{Room: "r1", Event: "ping"}},
		{name: "charset ok", ctype: "application/json; charset=utf-8", body: `{"room":"r","event":"e","data":[1,"x"]}`, wantStatus: 202,
			wantCall: &PublishRequest{Room: "r", Event: "e", Data: json.RawMessage(`[1,"x"]`)}},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantErr: "use POST"},
		{name: "no auth", auth: "-", body: `{}`, wantStatus: 401, wantErr: "API key"},
		{name: "wrong key", auth: "Bearer nope", body: `{}`, wantStatus: 401, wantErr: "API key"},
		{name: "basic scheme", auth: "Basic " + key, body: `{}`, wantStatus: 401, wantErr: "API key"},
		{name: "lowercase bearer", auth: "bearer " + key, body: `{"room":"r","event":"e"}`, wantStatus: 202,
			wantCall: &PublishRequest{Room: "r", Event: "e"}},
		{name: "disabled", noKey: true, body: `{}`, wantStatus: 503, wantErr: "HUB_API_KEY"},
		{name: "text/plain", ctype: "text/plain", body: `{}`, wantStatus: 415, wantErr: "application/json"},
		{name: "no content type", ctype: "-", body: `{}`, wantStatus: 415, wantErr: "application/json"},
		{name: "too large", body: `{"room":"r","event":"e","data":"` + strings.Repeat("x", 600) + `"}`, wantStatus: 413, wantErr: "larger than 512"},
		{name: "empty", body: ``, wantStatus: 400, wantErr: "empty body"},
		{name: "not json", body: `{room:1}`, wantStatus: 400, wantErr: "invalid JSON"},
		{name: "array", body: `[1]`, wantStatus: 400, wantErr: "JSON object"},
		{name: "room number", body: `{"room":5,"event":"e"}`, wantStatus: 400, wantErr: `"room" must be a string`},
		{name: "missing room", body: `{"event":"e"}`, wantStatus: 400, wantErr: `"room" is required`},
		{name: "missing event", body: `{"room":"r"}`, wantStatus: 400, wantErr: `"event" is required`},
		{name: "reserved event", body: `{"room":"r","event":"disconnect"}`, wantStatus: 400, wantErr: "reserved"},
		{name: "hub event", body: `{"room":"r","event":"hub:error"}`, wantStatus: 400, wantErr: "belong to the hub"},
		{name: "unknown field", body: `{"room":"r","event":"e","rooms":[]}`, wantStatus: 400, wantErr: `unknown field "rooms"`},
		{name: "trailing", body: `{"room":"r","event":"e"} {}`, wantStatus: 400, wantErr: "trailing"},
		{name: "long room", body: `{"room":"` + strings.Repeat("r", 257) + `","event":"e"}`, wantStatus: 400, wantErr: "longer than"},
		{name: "publisher fails", body: `{"room":"r","event":"e"}`, pubErr: errors.New("redis down"), wantStatus: 503, wantErr: "redis down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub := &recordingPublisher{err: tt.pubErr}
			cfg := PublishAPIConfig{APIKey: key, MaxBody: 512, Publisher: pub, Metrics: NewMetrics()}
			if tt.noKey {
				cfg.APIKey = ""
			}
			api, err := NewPublishAPI(cfg)
			if err != nil {
				t.Fatal(err)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/api/v1/publish", strings.NewReader(tt.body))
			switch tt.auth {
			case "":
				req.Header.Set("Authorization", "Bearer "+key)
			case "-":
			default:
				req.Header.Set("Authorization", tt.auth)
			}
			switch tt.ctype {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if tt.wantErr != "" {
				msg, _ := body["error"].(string)
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("error = %q, want it to contain %q", msg, tt.wantErr)
				}
			} else if body["ok"] != true {
				t.Fatalf("body = %v", body)
			}
			pub.mu.Lock()
			defer pub.mu.Unlock()
			switch {
			case tt.wantCall == nil && len(pub.calls) != 0:
				t.Fatalf("unexpected publish %+v", pub.calls)
			case tt.wantCall != nil && (len(pub.calls) != 1 || pub.calls[0].Room != tt.wantCall.Room ||
				pub.calls[0].Event != tt.wantCall.Event || string(pub.calls[0].Data) != string(tt.wantCall.Data)):
				t.Fatalf("calls = %+v, want %+v", pub.calls, *tt.wantCall)
			}
		})
	}
}
