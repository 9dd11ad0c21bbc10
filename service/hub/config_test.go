package hub

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	s, err := ConfigFromEnv(envOf(nil))
	if err != nil {
		t.Fatalf("empty env: %v", err)
	}
	want := Settings{
		Addr: ":3000", Env: Development, RedisMode: RedisStreams,
		RecoveryWindow: 2 * time.Minute, DrainWindow: 20 * time.Second,
		PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second,
		MaxPayload: 1_000_000, WriteQueue: 1024, LogLevel: slog.LevelInfo,
	}
	if s.Addr != want.Addr || s.Env != want.Env || s.RedisMode != want.RedisMode ||
		s.RecoveryWindow != want.RecoveryWindow || s.DrainWindow != want.DrainWindow ||
		s.PingInterval != want.PingInterval || s.PingTimeout != want.PingTimeout ||
		s.MaxPayload != want.MaxPayload || s.WriteQueue != want.WriteQueue ||
		s.LogLevel != want.LogLevel || s.AuthEnabled() || s.RedisURL != "" || s.APIKey != "" {
		t.Fatalf("defaults = %+v, want %+v", s, want)
	}
}

func TestConfigValues(t *testing.T) {
	t.Parallel()
	pemKey := ed25519PEM(t)
	s, err := ConfigFromEnv(envOf(map[string]string{
		EnvAddr: "127.0.0.1:8080", EnvRedisURL: "redis://:pw@redis:6379/0", EnvEnv: "Production",
		EnvRedisMode: "streams", EnvRecoveryWindow: "0", EnvAPIKey: "k", EnvJWTSecret: strings.Repeat("s", 32),
		EnvJWTPublicKey: pemKey, EnvAllowedOrigins: "https://a.example, http://b.example:80 ,",
		EnvDrainWindow: "3s", EnvPingInterval: "1s", EnvPingTimeout: "500ms",
		EnvMaxPayload: "2048", EnvWriteQueue: "16", EnvLogLevel: "debug",
	}))
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	if s.Addr != "127.0.0.1:8080" || s.Env != Production || s.RedisMode != RedisStreams ||
		s.RecoveryWindow != 0 || s.DrainWindow != 3*time.Second || s.PingInterval != time.Second ||
		s.PingTimeout != 500*time.Millisecond || s.MaxPayload != 2048 || s.WriteQueue != 16 ||
		s.LogLevel != slog.LevelDebug || string(s.JWTSecret) != strings.Repeat("s", 32) || s.APIKey != "k" {
		t.Fatalf("settings = %+v", s)
	}
	if _, ok := s.JWTPublicKey.(ed25519.PublicKey); !ok {
		t.Fatalf("public key type %T", s.JWTPublicKey)
	}
	if got := strings.Join(s.AllowedOrigins, " "); got != "https://a.example http://b.example" {
		t.Fatalf("origins = %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		keys []string // every key that must be named, in order
	}{
		{"bad duration", map[string]string{EnvPingInterval: "soon"}, []string{EnvPingInterval}},
		{"zero ping", map[string]string{EnvPingTimeout: "0s"}, []string{EnvPingTimeout}},
		{"negative drain", map[string]string{EnvDrainWindow: "-1s"}, []string{EnvDrainWindow}},
		{"bad int", map[string]string{EnvMaxPayload: "1MB"}, []string{EnvMaxPayload}},
		{"zero queue", map[string]string{EnvWriteQueue: "0"}, []string{EnvWriteQueue}},
		{"bad env", map[string]string{EnvEnv: "staging"}, []string{EnvEnv}},
		{"bad mode", map[string]string{EnvRedisMode: "cluster"}, []string{EnvRedisMode}},
		{"bad addr", map[string]string{EnvAddr: "3000"}, []string{EnvAddr}},
		{"bad port", map[string]string{EnvAddr: ":99999"}, []string{EnvAddr}},
		{"bad redis scheme", map[string]string{EnvRedisURL: "http://redis:6379"}, []string{EnvRedisURL}},
		{"bad origin", map[string]string{EnvAllowedOrigins: "example.com"}, []string{EnvAllowedOrigins}},
		{"bad level", map[string]string{EnvLogLevel: "loud"}, []string{EnvLogLevel}},
		{"bad pem", map[string]string{EnvJWTPublicKey: "not a key"}, []string{EnvJWTPublicKey}},
		{"bad rate", map[string]string{EnvClientRate: "fast"}, []string{EnvClientRate}},
		{"negative rate", map[string]string{EnvClientRate: "-1"}, []string{EnvClientRate}},
		{"zero burst", map[string]string{EnvClientRate: "5", EnvClientBurst: "0"}, []string{EnvClientBurst}},
		{"burst without rate", map[string]string{EnvClientBurst: "10"}, []string{EnvClientBurst}},
		{"production without redis and key", map[string]string{EnvEnv: "production"}, []string{EnvRedisURL, EnvJWTSecret}},
		{"production without key", map[string]string{EnvEnv: "production", EnvRedisURL: "redis://r:6379"}, []string{EnvJWTSecret}},
		{"production short secret", map[string]string{EnvEnv: "production", EnvRedisURL: "redis://r:6379", EnvJWTSecret: "short"}, []string{EnvJWTSecret}},
		{"all reported together", map[string]string{
			EnvPingInterval: "x", EnvMaxPayload: "-3", EnvEnv: "prod",
		}, []string{EnvEnv, EnvPingInterval, EnvMaxPayload}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ConfigFromEnv(envOf(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("error %v is not a *ConfigError", e)
				}
				if !strings.Contains(e.Error(), ce.Key) {
					t.Fatalf("message %q does not name %s", e, ce.Key)
				}
				got = append(got, ce.Key)
			}
			if strings.Join(got, ",") != strings.Join(tt.keys, ",") {
				t.Fatalf("keys = %v, want %v (err: %v)", got, tt.keys, err)
			}
		})
	}
}

func TestConfigNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	_, err := ConfigFromEnv(envOf(map[string]string{EnvRedisURL: "ftp://user:hunter2@x"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func ed25519PEM(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestConfigClientRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env   map[string]string
		rate  float64
		burst int
	}{
		{nil, 0, 1},
		{map[string]string{EnvClientRate: "0"}, 0, 1},
		{map[string]string{EnvClientRate: "20"}, 20, 40},
		{map[string]string{EnvClientRate: "0.2"}, 0.2, 1},
		{map[string]string{EnvClientRate: "2.5", EnvClientBurst: "3"}, 2.5, 3},
	}
	for _, tt := range tests {
		s, err := ConfigFromEnv(envOf(tt.env))
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if s.ClientRate != tt.rate || s.ClientBurst != tt.burst {
			t.Errorf("%v: rate %v burst %d, want %v and %d", tt.env, s.ClientRate, s.ClientBurst, tt.rate, tt.burst)
		}
	}
}
