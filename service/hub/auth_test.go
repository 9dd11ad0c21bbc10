package hub

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func sign(t *testing.T, method jwt.SigningMethod, key any, c Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(exp time.Duration, join, publish []string) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))},
		Join:             join, Publish: publish,
	}
}

func pemOf(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	secret := []byte("a-long-shared-secret")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ok := claims(time.Hour, []string{"chat:*"}, []string{"chat:lobby"})
	tests := []struct {
		name    string
		pub     crypto.PublicKey
		secret  []byte
		token   string
		wantErr error
		reason  string
	}{
		{name: "HS256", secret: secret, token: sign(t, jwt.SigningMethodHS256, secret, ok)},
		{name: "RS256", pub: &rsaKey.PublicKey, token: sign(t, jwt.SigningMethodRS256, rsaKey, ok)},
		{name: "ES256", pub: &ecKey.PublicKey, token: sign(t, jwt.SigningMethodES256, ecKey, ok)},
		{name: "EdDSA", pub: edPub, token: sign(t, jwt.SigningMethodEdDSA, edPriv, ok)},
		{name: "HS256 and RS256 configured, RS256 token", secret: secret, pub: &rsaKey.PublicKey, token: sign(t, jwt.SigningMethodRS256, rsaKey, ok)},
		{name: "missing", secret: secret, token: "", wantErr: ErrTokenMissing},
		{name: "expired", secret: secret, token: sign(t, jwt.SigningMethodHS256, secret, claims(-time.Minute, nil, nil)), wantErr: ErrTokenExpired},
		{name: "no exp", secret: secret, token: sign(t, jwt.SigningMethodHS256, secret, Claims{Join: []string{"a"}}), wantErr: ErrTokenInvalid, reason: "missing exp"},
		{name: "wrong secret", secret: secret, token: sign(t, jwt.SigningMethodHS256, []byte("other"), ok), wantErr: ErrTokenInvalid, reason: "bad signature"},
		{name: "wrong RSA key", pub: &rsaKey.PublicKey, token: sign(t, jwt.SigningMethodRS256, otherRSA, ok), wantErr: ErrTokenInvalid, reason: "bad signature"},
		{name: "garbage", secret: secret, token: "abc.def", wantErr: ErrTokenInvalid, reason: "malformed"},
		{name: "HS256 token, only RSA key (alg confusion)", pub: &rsaKey.PublicKey, token: sign(t, jwt.SigningMethodHS256, pemOf(t, &rsaKey.PublicKey), ok), wantErr: ErrTokenInvalid, reason: "algorithm"},
		{name: "none alg", secret: secret, token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, ok), wantErr: ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(VerifierConfig{Secret: tt.secret, PublicKey: tt.pub})
			if err != nil {
				t.Fatal(err)
			}
			g, err := v.Verify(tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if g.Subject != "u1" || !g.Join.Allows("chat:x") || g.Join.Allows("news") ||
					!g.Publish.Allows("chat:lobby") || g.Publish.Allows("chat:other") || g.Expires.IsZero() {
					t.Fatalf("grants = %+v", g)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err %q does not say %q", err, tt.reason)
			}
		})
	}
}

func TestNewVerifierNeedsKey(t *testing.T) {
	t.Parallel()
	if _, err := NewVerifier(VerifierConfig{}); err == nil {
		t.Fatal("no error without keys")
	}
}

func TestRoomPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pats RoomPatterns
		room string
		want bool
	}{
		{RoomPatterns{"*"}, "anything", true},
		{RoomPatterns{"chat:*"}, "chat:lobby", true},
		{RoomPatterns{"chat:*"}, "chat:", true},
		{RoomPatterns{"chat:*"}, "chat", false},
		{RoomPatterns{"chat:*"}, "news:chat:x", false},
		{RoomPatterns{"news"}, "news", true},
		{RoomPatterns{"news"}, "news2", false},
		{RoomPatterns{"a", "b:*"}, "b:1", true},
		{nil, "x", false},
	}
	for _, tt := range tests {
		if got := tt.pats.Allows(tt.room); got != tt.want {
			t.Errorf("%v.Allows(%q) = %v, want %v", tt.pats, tt.room, got, tt.want)
		}
	}
}

func TestTokenFromAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, want string
		err       bool
	}{
		{``, "", false},
		{`null`, "", false},
		{`{}`, "", false},
		{`{"token":"abc"}`, "abc", false},
		{`{"token":"Bearer abc","x":1}`, "abc", false},
		{`{"token":5}`, "", true},
		{`[1]`, "", true},
	}
	for _, tt := range tests {
		got, err := TokenFromAuth([]byte(tt.raw))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("TokenFromAuth(%s) = %q, %v", tt.raw, got, err)
		}
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})
	escaped := strings.ReplaceAll(string(pemOf(t, &rsaKey.PublicKey)), "\n", `\n`)
	for name, in := range map[string][]byte{
		"pkix rsa": pemOf(t, &rsaKey.PublicKey), "pkcs1": pkcs1, "p384": pemOf(t, &p384.PublicKey), "escaped newlines": []byte(escaped),
	} {
		if _, err := ParsePublicKeyPEM(in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})
	if _, err := ParsePublicKeyPEM(priv); err == nil || !strings.Contains(err.Error(), "not a public key") {
		t.Errorf("private key block: %v", err)
	}
}
