package hub

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// OriginPolicy is the HUB_ALLOWED_ORIGINS allowlist. The zero value allows
// every origin. It is immutable and safe for concurrent use.
type OriginPolicy struct {
	any     bool
	allowed map[string]bool
}

// NewOriginPolicy returns a policy for the given origins ("scheme://host[:port]"
// or "*"). An empty list allows every origin.
func NewOriginPolicy(origins []string) (OriginPolicy, error) {
	p := OriginPolicy{allowed: map[string]bool{}}
	if len(origins) == 0 {
		p.any = true
	}
	for _, o := range origins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return OriginPolicy{}, err
		}
		if n == "*" {
			p.any = true
		}
		p.allowed[n] = true
	}
	return p, nil
}

// Allowed reports whether a request Origin header value is allowed. A request
// without Origin (a non-browser client: backends, the Node client, curl) is
// allowed: the header only protects browsers from cross-site use.
func (p OriginPolicy) Allowed(origin string) bool {
	if origin == "" || p.any || p.allowed == nil {
		return true
	}
	n, err := normalizeOrigin(origin)
	if err != nil {
		return false
	}
	return p.allowed[n]
}

// Middleware refuses requests whose Origin is not allowed with 403 and a
// JSON error naming the origin. CORS headers for allowed origins are left to
// the Engine.IO server.
func (p OriginPolicy) Middleware(next http.Handler, onRefused func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); !p.Allowed(origin) {
			if onRefused != nil {
				onRefused()
			}
			writeError(w, http.StatusForbidden, "origin not allowed: "+origin)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", errors.New("want an origin like https://app.example.com[:port]")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("an origin has no path, query or user part")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host, nil
}
