package hube2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type testClaims struct {
	jwt.RegisteredClaims
	Join    []string `json:"join,omitempty"`
	Publish []string `json:"publish,omitempty"`
}

func token(t *testing.T, m jwt.SigningMethod, key any, exp time.Duration, join, publish []string) string {
	t.Helper()
	c := testClaims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: "user-1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))},
		Join:             join, Publish: publish,
	}
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJWTAuth: HS256 and ES256 tokens accepted, expired / forged / missing
// tokens refused with connect_error, and room grants enforced.
func TestJWTAuth(t *testing.T) {
	needNode(t)
	t.Parallel()
	secret := []byte("e2e-shared-secret-of-some-length")
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	h := startHub(t, map[string]string{"HUB_JWT_SECRET": string(secret), "HUB_JWT_PUBLIC_KEY": pubPEM})
	p := startPuppet(t)
	errorsBefore := metric(t, h, `hub_errors_total{reason="auth_token_expired"}`)

	join, publish := []string{"chat:*", "news"}, []string{"chat:*"}
	refused := []struct {
		id, token, message, code string
	}{
		{"expired", token(t, jwt.SigningMethodHS256, secret, -time.Minute, join, publish), "unauthorized: token expired", "token_expired"},
		{"forged", token(t, jwt.SigningMethodHS256, []byte("wrong-secret"), time.Hour, join, publish), "unauthorized: invalid token: bad signature", "token_invalid"},
		{"garbage", "not-a-jwt", "unauthorized: invalid token: malformed", "token_invalid"},
		{"missing", "", "unauthorized: missing token", "token_missing"},
	}
	for _, tt := range refused {
		opts := map[string]any{"reconnection": false}
		if tt.token != "" {
			opts["auth"] = map[string]any{"token": tt.token}
		}
		e := p.Connect(tt.id, h.url, opts)
		if e.Type != "connect_error" || !strings.HasPrefix(e.Message, tt.message) || !strings.Contains(string(e.Data), tt.code) {
			t.Errorf("%s: got %s %q data=%s, want connect_error %q (%s)", tt.id, e.Type, e.Message, e.Data, tt.message, tt.code)
		}
	}
	if got := metric(t, h, `hub_errors_total{reason="auth_token_expired"}`); got != errorsBefore+1 {
		t.Errorf("auth_token_expired counter = %v, want %v", got, errorsBefore+1)
	}

	// Accepted: an HS256 token and an ES256 token.
	hs := token(t, jwt.SigningMethodHS256, secret, time.Hour, join, publish)
	es := token(t, jwt.SigningMethodES256, ecKey, time.Hour, []string{"chat:*"}, nil)
	if e := p.Connect("hs", h.url, map[string]any{"auth": map[string]any{"token": hs}}); e.Type != "connect" {
		t.Fatalf("HS256 token refused: %+v", e)
	}
	if e := p.Connect("es", h.url, map[string]any{"auth": map[string]any{"token": es}}); e.Type != "connect" {
		t.Fatalf("ES256 token refused: %+v", e)
	}

	// Grants: join allowed rooms only; publish needs its own grant.
	ok(t, "join chat:lobby", p.Call("hs", "join", "chat:lobby"))
	ok(t, "join news", p.Call("hs", "join", "news"))
	ackErr(t, "join admin", p.Call("hs", "join", "admin"), "not allowed to join room admin")
	ackErr(t, "join newsroom", p.Call("hs", "join", "newsroom"), "not allowed")
	ok(t, "es join chat:lobby", p.Call("es", "join", "chat:lobby"))
	ackErr(t, "es join news", p.Call("es", "join", "news"), "not allowed")
	ackErr(t, "publish news", p.Call("hs", "publish", "news", "m", 1), "not allowed to publish to room news")
	ackErr(t, "es publish (no publish grant)", p.Call("es", "publish", "chat:lobby", "m", 1), "not allowed to publish")
	from := p.Len()
	ok(t, "publish chat:lobby", p.Call("hs", "publish", "chat:lobby", "m", "hi"))
	p.WaitFrom(from, "es receives", func(e event) bool { return e.ID == "es" && e.Event == "m" })
	h.Signal(syscall.SIGTERM)
	if code, exited := h.Wait(10 * time.Second); !exited || code != 0 {
		t.Fatalf("hub exit: %v %d", exited, code)
	}
}

// TestOriginRefused: with HUB_ALLOWED_ORIGINS, a socket.io-client sending
// another Origin cannot connect (polling and websocket); an allowed one can.
func TestOriginRefused(t *testing.T) {
	needNode(t)
	t.Parallel()
	h := startHub(t, map[string]string{"HUB_ALLOWED_ORIGINS": "https://app.example"})
	p := startPuppet(t)
	for _, transport := range []string{"polling", "websocket"} {
		e := p.Connect("evil-"+transport, h.url, map[string]any{
			"transports": []string{transport}, "reconnection": false,
			"extraHeaders": map[string]string{"Origin": "https://evil.example"},
		})
		if e.Type != "connect_error" {
			t.Errorf("%s: evil origin got %+v", transport, e)
		}
		e = p.Connect("good-"+transport, h.url, map[string]any{
			"transports":   []string{transport},
			"extraHeaders": map[string]string{"Origin": "https://app.example"},
		})
		if e.Type != "connect" {
			t.Errorf("%s: allowed origin got %+v", transport, e)
		}
	}
	if got := metric(t, h, `hub_errors_total{reason="origin_refused"}`); got < 2 {
		t.Errorf("origin_refused = %v, want >= 2", got)
	}
	h.Stop()
}

// TestProductionRefusesToRunOpen: HUB_ENV=production without REDIS_URL or a
// JWT key exits 1 naming both keys; bad values are all reported at once.
func TestProductionRefusesToRunOpen(t *testing.T) {
	needHub(t)
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no redis, no key", map[string]string{"HUB_ENV": "production"}, []string{"REDIS_URL", "HUB_JWT_SECRET or HUB_JWT_PUBLIC_KEY"}},
		{"bad values", map[string]string{"HUB_PING_INTERVAL": "often", "HUB_MAX_PAYLOAD": "-1"}, []string{"HUB_PING_INTERVAL", "HUB_MAX_PAYLOAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := runHubOnce(tt.env)
			if err == nil {
				t.Fatalf("hub started: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %s:\n%s", w, out)
				}
			}
		})
	}
}
