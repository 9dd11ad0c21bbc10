package controlplane

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// The API server answers 429 "storage is (re)initializing" for a short while
// after a CRD is installed; the client waits and repeats instead of failing.
func TestClientRetriesThrottled(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"reason":"TooManyRequests","message":"storage is (re)initializing"}`))
			return
		}
		_, _ = w.Write([]byte(`{"kind":"List","items":[]}`))
	}))
	defer srv.Close()
	c := &Client{base: srv.URL, http: srv.Client()}
	var out struct {
		Kind string `json:"kind"`
	}
	if err := c.Get(context.Background(), "/apis/x/v1/things", &out); err != nil {
		t.Fatalf("Get after two 429s: %v", err)
	}
	if out.Kind != "List" || calls.Load() != 3 {
		t.Fatalf("kind %q after %d calls, want List after 3", out.Kind, calls.Load())
	}
}

func TestClientGivesUpOnOtherErrors(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"reason":"Invalid","message":"spec.replicas: Invalid value"}`))
	}))
	defer srv.Close()
	c := &Client{base: srv.URL, http: srv.Client()}
	err := c.Create(context.Background(), "/apis/apps/v1/deployments", map[string]any{"a": 1})
	if err == nil || calls.Load() != 1 {
		t.Fatalf("err %v after %d calls, want the 422 after 1", err, calls.Load())
	}
}
