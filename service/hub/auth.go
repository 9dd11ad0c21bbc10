package hub

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the JWT payload the hub understands. Besides the registered
// claims ("exp" is required), "join" and "publish" list the rooms a socket
// may join and publish to. An entry ending in "*" is a prefix wildcard:
// "chat:*" matches "chat:lobby"; "*" alone matches every room.
type Claims struct {
	jwt.RegisteredClaims
	Join    []string `json:"join,omitempty"`
	Publish []string `json:"publish,omitempty"`
}

// Grants is what a connected socket may do. The zero value allows nothing;
// [OpenGrants] allows everything (no JWT key configured).
type Grants struct {
	Subject string
	Join    RoomPatterns
	Publish RoomPatterns
	// Expires is the token's expiry (zero when open).
	Expires time.Time
}

// everyRoom is shared, read-only, by every open Grants.
var everyRoom = RoomPatterns{"*"}

// OpenGrants is used when the hub runs without auth (development only).
func OpenGrants() Grants {
	return Grants{Join: everyRoom, Publish: everyRoom}
}

// RoomPatterns is a list of room names and prefix wildcards.
type RoomPatterns []string

// Allows reports whether room matches one of the patterns.
func (p RoomPatterns) Allows(room string) bool {
	for _, pat := range p {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			if strings.HasPrefix(room, prefix) {
				return true
			}
			continue
		}
		if pat == room {
			return true
		}
	}
	return false
}

// Names reports whether one of the patterns is exactly room (not a
// wildcard matching it).
func (p RoomPatterns) Names(room string) bool {
	for _, pat := range p {
		if pat == room && !strings.HasSuffix(pat, "*") {
			return true
		}
	}
	return false
}

// Auth errors, returned (wrapped) by [Verifier.Verify]; their messages are
// what a client sees in connect_error.
var (
	ErrTokenMissing = errors.New("unauthorized: missing token (send auth {token: \"<jwt>\"})")
	ErrTokenExpired = errors.New("unauthorized: token expired")
	ErrTokenInvalid = errors.New("unauthorized: invalid token")
)

// VerifierConfig configures [NewVerifier].
type VerifierConfig struct {
	// Secret is the HS256 shared secret; nil = HS256 not accepted.
	Secret []byte
	// PublicKey is an *rsa.PublicKey (RS256/384/512), *ecdsa.PublicKey
	// (ES256/384/512 by curve) or ed25519.PublicKey (EdDSA); nil = none.
	PublicKey crypto.PublicKey
	// Leeway tolerates clock skew on exp/nbf/iat. Zero = 5s.
	Leeway time.Duration
	// Now overrides the clock (tests). Nil = time.Now.
	Now func() time.Time
}

// Verifier checks CONNECT tokens. It is safe for concurrent use.
type Verifier struct {
	secret  []byte
	pub     crypto.PublicKey
	pubAlgs map[string]bool
	parser  *jwt.Parser
}

// NewVerifier returns a verifier for the configured keys; at least one key
// is required.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if len(cfg.Secret) == 0 && cfg.PublicKey == nil {
		return nil, errors.New("hub: verifier needs a secret or a public key")
	}
	v := &Verifier{secret: cfg.Secret, pub: cfg.PublicKey, pubAlgs: map[string]bool{}}
	var methods []string
	if len(cfg.Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.PublicKey != nil {
		algs, err := algorithmsFor(cfg.PublicKey)
		if err != nil {
			return nil, err
		}
		for _, a := range algs {
			v.pubAlgs[a] = true
		}
		methods = append(methods, algs...)
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 5 * time.Second
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func algorithmsFor(k crypto.PublicKey) ([]string, error) {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512"}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		case elliptic.P521():
			return []string{"ES512"}, nil
		}
		return nil, fmt.Errorf("hub: unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("hub: unsupported public key type %T (want RSA, ECDSA or Ed25519)", k)
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == jwt.SigningMethodHS256.Alg() && len(v.secret) > 0 {
		return v.secret, nil
	}
	if v.pubAlgs[alg] {
		return v.pub, nil
	}
	return nil, fmt.Errorf("algorithm %s not accepted", alg)
}

// Verify checks a raw token and returns its grants. Errors wrap
// ErrTokenMissing, ErrTokenExpired or ErrTokenInvalid with a short reason.
func (v *Verifier) Verify(token string) (Grants, error) {
	if token == "" {
		return Grants{}, ErrTokenMissing
	}
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, v.key)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return Grants{}, ErrTokenExpired
	default:
		return Grants{}, fmt.Errorf("%w: %s", ErrTokenInvalid, reasonOf(err))
	}
	g := Grants{Subject: c.Subject, Join: c.Join, Publish: c.Publish}
	if c.ExpiresAt != nil {
		g.Expires = c.ExpiresAt.Time
	}
	return g, nil
}

// reasonOf turns a jwt error into a short, client-safe reason.
func reasonOf(err error) string {
	switch {
	case strings.Contains(err.Error(), "signing method"):
		return "signing algorithm not accepted"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "missing exp claim"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signing algorithm not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "bad claims"
	}
	return "rejected"
}

// TokenFromAuth extracts "token" from a raw CONNECT auth payload. A missing
// or empty payload yields "" (the verifier then reports ErrTokenMissing).
func TokenFromAuth(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	var a struct {
		Token any `json:"token"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", fmt.Errorf("%w: auth payload is not a JSON object", ErrTokenInvalid)
	}
	switch t := a.Token.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimPrefix(t, "Bearer "), nil
	}
	return "", fmt.Errorf("%w: auth.token must be a string", ErrTokenInvalid)
}

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" (PKIX: RSA, ECDSA, Ed25519),
// "RSA PUBLIC KEY" (PKCS#1) or "CERTIFICATE" block.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	// Kubernetes secrets sometimes arrive with literal "\n".
	if !strings.Contains(string(data), "\n") {
		data = []byte(strings.ReplaceAll(string(data), `\n`, "\n"))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (want -----BEGIN PUBLIC KEY-----)")
	}
	var (
		k   crypto.PublicKey
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			k = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("bad public key: %v", err)
	}
	if _, err := algorithmsFor(k); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "hub: "))
	}
	return k, nil
}
