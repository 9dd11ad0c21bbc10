package kit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// mapSource is a Source backed by maps.
type mapSource struct {
	values  map[string]string
	secrets map[string]bool
}

func (m mapSource) Get(k string) (string, bool) { v, ok := m.values[k]; return v, ok }
func (m mapSource) IsSecret(k string) bool      { return m.secrets[k] }

func src(values map[string]string, secret ...string) mapSource {
	s := mapSource{values: values, secrets: map[string]bool{}}
	for _, k := range secret {
		s.secrets[k] = true
	}
	return s
}

// prodValues is a complete, valid production configuration.
func prodValues() map[string]string {
	return map[string]string{
		"environment": "production", "host": "rt.example.com", "imageRepository": "ghcr.io/acme/hubkit",
		"tlsIssuer": "letsencrypt-prod", "redisPassword": "s3cret-redis", "apiKey": "s3cret-api",
		"jwtSecret": "s3cret-jwt-0123456789abcdef0123456789",
	}
}

var prodSecrets = []string{"redisPassword", "apiKey", "jwtSecret", "jwtPublicKey", "redisUrl"}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse(src(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"environment", c.Environment, EnvDevelopment},
		{"replicas", c.Replicas, 3},
		{"namespace", c.Namespace, "hubkit"},
		{"host", c.Host, "hubkit.localtest.me"},
		{"controller", c.Controller, "nginx"},
		{"tlsMode", c.TLS.Mode, "self-signed"},
		{"imageRepository", c.ImageRepository, "localhost:5000/hubkit"},
		{"redisMode", c.RedisMode, "streams"},
		{"recoveryWindow", c.RecoveryWindow, 2 * time.Minute},
		{"drainWindow", c.DrainWindow, 20 * time.Second},
		{"pingInterval", c.PingInterval, 25 * time.Second},
		{"pingTimeout", c.PingTimeout, 20 * time.Second},
		{"maxPayload", c.MaxPayload, 1000000},
		{"writeQueue", c.WriteQueue, 1024},
		{"clientRate", c.ClientRate, 0.0},
		{"clientBurst", c.ClientBurst, 0},
		{"logLevel", c.LogLevel, "info"},
		{"inClusterRedis", c.InClusterRedis(), true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestParseValidProduction(t *testing.T) {
	t.Parallel()
	c, err := Parse(src(prodValues(), prodSecrets...))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Production() || c.TLS.Mode != "cert-manager" || c.AllowedOrigins[0] != "https://rt.example.com" {
		t.Fatalf("unexpected production config: %+v", c)
	}
}

// TestParseErrors: every bad key yields one error line that names it.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(m map[string]string)
		wantKey string
		want    string
	}{
		{"replicas zero", func(m map[string]string) { m["replicas"] = "0" }, "replicas", "at least 1"},
		{"replicas negative", func(m map[string]string) { m["replicas"] = "-2" }, "replicas", "at least 1"},
		{"replicas not int", func(m map[string]string) { m["replicas"] = "three" }, "replicas", "not an integer"},
		{"prod without host", func(m map[string]string) { delete(m, "host") }, "host", "required"},
		{"bad host", func(m map[string]string) { m["host"] = "Not_A.Host" }, "host", "not a DNS name"},
		{"unknown controller", func(m map[string]string) { m["ingressController"] = "haproxy" }, "ingressController", "unknown value"},
		{"unknown tls mode", func(m map[string]string) { m["tlsMode"] = "acme" }, "tlsMode", "unknown value"},
		{"cert-manager without issuer", func(m map[string]string) { delete(m, "tlsIssuer") }, "tlsIssuer", "required"},
		{"secret mode without name", func(m map[string]string) { m["tlsMode"] = "secret" }, "tlsSecretName", "required"},
		{"prod tls none", func(m map[string]string) { m["tlsMode"] = "none" }, "tlsMode", "refused in production"},
		{"prod self-signed", func(m map[string]string) { m["tlsMode"] = "self-signed" }, "tlsMode", "refused in production"},
		{"bad issuer kind", func(m map[string]string) { m["tlsIssuerKind"] = "Vault" }, "tlsIssuerKind", "unknown value"},
		{"prod without image repo", func(m map[string]string) { delete(m, "imageRepository") }, "imageRepository", "required"},
		{"prod image by tag", func(m map[string]string) { m["image"] = "ghcr.io/acme/hubkit:latest" }, "image", "pinned by digest"},
		{"bad image", func(m map[string]string) { m["image"] = "UPPER CASE" }, "image", "not an image reference"},
		{"bad platform", func(m map[string]string) { m["imagePlatform"] = "windows/amd64" }, "imagePlatform", "linux"},
		{"prod missing redis password", func(m map[string]string) { delete(m, "redisPassword") }, "redisPassword", "missing secret"},
		{"prod missing api key", func(m map[string]string) { delete(m, "apiKey") }, "apiKey", "missing secret"},
		{"prod missing jwt", func(m map[string]string) { delete(m, "jwtSecret") }, "jwtSecret", "missing secret"},
		{"both jwt kinds", func(m map[string]string) {
			m["jwtPublicKey"] = "-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----"
		}, "jwtPublicKey", "not both"},
		{"jwt public key not PEM", func(m map[string]string) { delete(m, "jwtSecret"); m["jwtPublicKey"] = "abc" }, "jwtPublicKey", "PEM"},
		{"external redis plain in prod", func(m map[string]string) {
			delete(m, "redisPassword")
			m["redisUrl"] = "redis://cache.example.com:6379"
		}, "redisUrl", "rediss://"},
		{"external redis bad scheme", func(m map[string]string) {
			delete(m, "redisPassword")
			m["redisUrl"] = "http://cache.example.com"
		}, "redisUrl", "scheme"},
		{"external redis plus password", func(m map[string]string) { m["redisUrl"] = "rediss://:pw@cache.example.com:6380" }, "redisPassword", "in-cluster"},
		{"unknown redis mode", func(m map[string]string) { m["redisMode"] = "cluster" }, "redisMode", "unknown value"},
		{"short jwt secret in prod", func(m map[string]string) { m["jwtSecret"] = "too-short" }, "jwtSecret", "at least 32"},
		{"bad duration", func(m map[string]string) { m["drainWindow"] = "soon" }, "drainWindow", "not a duration"},
		{"bad client rate", func(m map[string]string) { m["clientRate"] = "fast" }, "clientRate", "events per second"},
		{"bad hub memory", func(m map[string]string) { m["hubMemory"] = "lots" }, "hubMemory", "Kubernetes quantity"},
		{"zero redis cpu", func(m map[string]string) { m["redisCpu"] = "0" }, "redisCpu", "Kubernetes quantity"},
		{"negative client rate", func(m map[string]string) { m["clientRate"] = "-1" }, "clientRate", "events per second"},
		{"burst without rate", func(m map[string]string) { m["clientBurst"] = "10" }, "clientBurst", "without clientRate"},
		{"negative burst", func(m map[string]string) { m["clientRate"] = "5"; m["clientBurst"] = "-1" }, "clientBurst", "negative"},
		{"negative duration", func(m map[string]string) { m["preStopDelay"] = "-5s" }, "preStopDelay", "negative"},
		{"zero drain window", func(m map[string]string) { m["drainWindow"] = "0" }, "drainWindow", "positive"},
		{"short websocket timeout", func(m map[string]string) { m["websocketTimeout"] = "30s" }, "websocketTimeout", "at least 1m"},
		{"bad max payload", func(m map[string]string) { m["maxPayload"] = "0" }, "maxPayload", "positive"},
		{"bad log level", func(m map[string]string) { m["logLevel"] = "verbose" }, "logLevel", "unknown value"},
		{"bad origin", func(m map[string]string) { m["allowedOrigins"] = "https://a.example.com, ftp://b" }, "allowedOrigins", "origin"},
		{"bad namespace", func(m map[string]string) { m["namespace"] = "Hub_Kit" }, "namespace", "DNS label"},
		{"bad ca bundle configmap", func(m map[string]string) { m["caBundleConfigMap"] = "Bad_Name" }, "caBundleConfigMap", "not a ConfigMap name"},
		{"unknown environment", func(m map[string]string) { m["environment"] = "staging" }, "environment", "unknown value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := prodValues()
			tt.edit(m)
			_, err := Parse(src(m, prodSecrets...))
			if err == nil {
				t.Fatal("Parse accepted an invalid configuration")
			}
			var line string
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(l, "hubkit:"+tt.wantKey+":") {
					line = l
				}
			}
			if line == "" || !strings.Contains(line, tt.want) {
				t.Fatalf("no line for hubkit:%s containing %q in:\n%v", tt.wantKey, tt.want, err)
			}
		})
	}
}

func TestParseSecretInPlainText(t *testing.T) {
	t.Parallel()
	m := prodValues()
	_, err := Parse(src(m, "redisPassword", "jwtSecret")) // apiKey set but not secret
	if err == nil || !strings.Contains(err.Error(), "hubkit:apiKey: stored in plain text") {
		t.Fatalf("err = %v, want a plain-text complaint about apiKey", err)
	}
}

// stackFile reads stacks/Pulumi.<stack>.yaml into a Source.
func stackFile(t *testing.T, stack string) mapSource {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "stacks", "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	s := src(map[string]string{})
	for k, v := range doc.Config {
		key, ok := strings.CutPrefix(k, "hubkit:")
		if !ok {
			continue
		}
		if !KnownKey(key) {
			t.Errorf("%s stack sets unknown key %s", stack, k)
		}
		if sec, ok := v.(map[string]any); ok && sec["secure"] != nil {
			s.values[key] = "ciphertext"
			s.secrets[key] = true
			continue
		}
		s.values[key] = fmt.Sprint(v)
	}
	return s
}

func TestDevStackNeedsNoSecrets(t *testing.T) {
	t.Parallel()
	c, err := Parse(stackFile(t, "dev"))
	if err != nil {
		t.Fatalf("dev stack must deploy with nothing but a kubeconfig: %v", err)
	}
	if c.APIKey != "" || c.JWTSecret != "" || c.RedisPassword != "" {
		t.Fatal("dev stack carries secrets")
	}
	if c.TLS.Mode != "self-signed" || c.ImageRepository != "localhost:5000/hubkit" {
		t.Fatalf("dev stack: tls %s, repo %s", c.TLS.Mode, c.ImageRepository)
	}
}

func TestProdStackNamesEachMissingValue(t *testing.T) {
	t.Parallel()
	_, err := Parse(stackFile(t, "prod"))
	if err == nil {
		t.Fatal("prod stack deployed without its secrets")
	}
	for _, key := range []string{"host", "imageRepository", "redisPassword", "apiKey", "jwtSecret"} {
		if !strings.Contains(err.Error(), "hubkit:"+key+":") {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

func TestParseRedisURLForms(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"rediss://default:pw@cache.example.com:6380",
		"rediss://:pw@node1.example.com:6379,node2.example.com:6379,node3.example.com:6379",
		"rediss://:pw@node1.example.com:6379?addr=node2.example.com:6379&cluster=true",
		"rediss-sentinel://:pw@s1.example.com:26379,s2.example.com:26379/mymaster",
	} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			m := prodValues()
			delete(m, "redisPassword")
			m["redisUrl"] = u
			c, err := Parse(src(m, prodSecrets...))
			if err != nil {
				t.Fatal(err)
			}
			if c.RedisURL != u || c.InClusterRedis() {
				t.Fatalf("URL not passed through verbatim: %q", c.RedisURL)
			}
		})
	}
}
