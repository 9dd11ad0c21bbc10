package engineio

import (
	"net/http"
	"strings"
)

// applyCORS checks the request Origin against Config.AllowedOrigins and, when
// allowed, sets the CORS response headers (the allowed origin reflected, with
// credentials). It reports false for a disallowed origin. Requests without an
// Origin header are not cross-origin and always pass.
func (s *Server) applyCORS(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !s.originAllowed(origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	return true
}

func (s *Server) originAllowed(origin string) bool {
	if len(s.cfg.AllowedOrigins) == 0 {
		return true
	}
	origin = strings.TrimSuffix(origin, "/")
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// preflight answers an OPTIONS preflight with 204, like the cors middleware
// Node servers use.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}
