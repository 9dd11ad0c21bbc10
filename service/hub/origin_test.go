package hub

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allow  []string
		origin string
		want   bool
	}{
		{nil, "https://evil.example", true},
		{[]string{"https://app.example"}, "", true},
		{[]string{"https://app.example"}, "https://app.example", true},
		{[]string{"https://app.example"}, "https://APP.example:443", true},
		{[]string{"https://app.example"}, "http://app.example", false},
		{[]string{"https://app.example"}, "https://evil.example", false},
		{[]string{"https://app.example"}, "null", false},
		{[]string{"http://localhost:5173"}, "http://localhost:5173", true},
		{[]string{"http://localhost:5173"}, "http://localhost:5174", false},
		{[]string{"*"}, "https://any.example", true},
	}
	for _, tt := range tests {
		p, err := NewOriginPolicy(tt.allow)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Allowed(tt.origin); got != tt.want {
			t.Errorf("%v allows %q = %v, want %v", tt.allow, tt.origin, got, tt.want)
		}
	}
	if _, err := NewOriginPolicy([]string{"app.example"}); err == nil {
		t.Error("bare host accepted")
	}
	if _, err := NewOriginPolicy([]string{"https://app.example/path"}); err == nil {
		t.Error("origin with path accepted")
	}
}

func TestOriginMiddleware(t *testing.T) {
	t.Parallel()
	p, err := NewOriginPolicy([]string{"https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), func() { refused++ })
	tests := []struct {
		method, origin string
		status         int
	}{
		{http.MethodGet, "https://app.example", http.StatusTeapot},
		{http.MethodGet, "", http.StatusTeapot},
		{http.MethodGet, "https://evil.example", http.StatusForbidden},
		{http.MethodOptions, "https://evil.example", http.StatusForbidden},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "/socket.io/?EIO=4&transport=polling", nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("%s %q: status %d, want %d", tt.method, tt.origin, rec.Code, tt.status)
		}
	}
	if refused != 2 {
		t.Errorf("refused = %d, want 2", refused)
	}
}
