package kit

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hubkit/hubkit/infra/components"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Config is the typed stack configuration. Keys are read from the project
// namespace ("hubkit:<key>"); see docs/kit.md for the table.
type Config struct {
	Environment string // environment: development (default) | production
	Namespace   string // namespace: default "hubkit"
	Replicas    int    // replicas: default 3, >= 1
	Host        string // host: public DNS name; required in production (dev: hubkit.localtest.me)

	Controller       string        // ingressController: nginx (default) | traefik
	IngressClassName string        // ingressClassName: default = controller
	AffinityCookie   string        // affinityCookie: default "hubkit-affinity"
	WebsocketTimeout time.Duration // websocketTimeout: default 1h

	TLS components.EdgeTLS // tlsMode (prod default cert-manager, dev self-signed), tlsIssuer, tlsIssuerKind, tlsSecretName

	Image           string // image: a prebuilt "repo@sha256:…" to deploy instead of building
	ImageRepository string // imageRepository: where built images go (dev: localhost:5000/hubkit)
	ImagePlatform   string // imagePlatform: default linux/amd64
	HubPackage      string // hubPackage: default ./service/cmd/hub

	RedisURL          string // redisUrl (secret): external Redis (rediss:// in production) instead of the StatefulSet
	RedisPassword     string // redisPassword (secret): in-cluster Redis password; required in production
	RedisMode         string // redisMode: streams (default, the hub's: recovery across replicas) | classic | sharded → HUB_REDIS_MODE
	RedisImage        string // redisImage: default the official image pinned by digest
	RedisStorageSize  string // redisStorageSize: default 1Gi
	RedisStorageClass string // redisStorageClass: default the cluster's

	RecoveryWindow time.Duration // recoveryWindow: default 2m, 0 = off
	DrainWindow    time.Duration // drainWindow: default 20s
	PreStopDelay   time.Duration // preStopDelay: default 5s
	PingInterval   time.Duration // pingInterval: default 25s
	PingTimeout    time.Duration // pingTimeout: default 20s
	MaxPayload     int           // maxPayload: default 1000000
	WriteQueue     int           // writeQueue: default 1024
	ClientRate     float64       // clientRate: join/leave/publish events per second per connection; default 0 = no limit
	ClientBurst    int           // clientBurst: default 0 = the hub's (twice clientRate)
	LogLevel       string        // logLevel: default info
	AllowedOrigins []string      // allowedOrigins: comma-separated; default https://<host>

	APIKey       string // apiKey (secret) → HUB_API_KEY; required in production
	JWTSecret    string // jwtSecret (secret) → HUB_JWT_SECRET
	JWTPublicKey string // jwtPublicKey (secret, PEM) → HUB_JWT_PUBLIC_KEY; production needs one of the two

	CABundleConfigMap string // caBundleConfigMap: ConfigMap with PEM CAs for the hub (SSL_CERT_FILE), e.g. for rediss://
	CABundleKey       string // caBundleKey: key in that ConfigMap, default ca.crt

	HubCPU, HubMemory     string // hubCpu (250m), hubMemory (256Mi)
	RedisCPU, RedisMemory string // redisCpu (100m), redisMemory (256Mi)
}

// Source is where Parse reads raw values from: the stack config in a real
// run, a map in tests.
type Source interface {
	// Get returns the raw value of key (without the project prefix).
	Get(key string) (string, bool)
	// IsSecret reports whether key was stored encrypted.
	IsSecret(key string) bool
}

// minProductionSecret is the hub's minimum HS256 key length in production
// (256 bits, RFC 7518).
const minProductionSecret = 32

var redisSchemes = map[string]bool{"redis": true, "rediss": true, "redis-sentinel": true, "rediss-sentinel": true}

// SecretKeys must be set with `pulumi config set --secret`.
var SecretKeys = []string{"redisUrl", "redisPassword", "apiKey", "jwtSecret", "jwtPublicKey"}

// knownKeys lists every accepted key; others are reported as unknown.
var knownKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`environment namespace replicas host ingressController ingressClassName
		affinityCookie websocketTimeout tlsMode tlsIssuer tlsIssuerKind tlsSecretName image imageRepository
		imagePlatform hubPackage redisMode redisImage redisStorageSize redisStorageClass recoveryWindow
		drainWindow preStopDelay pingInterval pingTimeout maxPayload writeQueue clientRate clientBurst logLevel allowedOrigins
		hubCpu hubMemory redisCpu redisMemory caBundleConfigMap caBundleKey`) {
		knownKeys[k] = true
	}
	for _, k := range SecretKeys {
		knownKeys[k] = true
	}
}

// KnownKey reports whether key is a config key the kit reads.
func KnownKey(key string) bool { return knownKeys[key] }

// Production reports whether the stack deploys with HUB_ENV=production.
func (c Config) Production() bool { return c.Environment == EnvProduction }

// InClusterRedis reports whether the kit runs Redis itself.
func (c Config) InClusterRedis() bool { return c.RedisURL == "" }

// Parse reads and validates the configuration. It returns every problem at
// once, one line per bad or missing key, each naming the key.
func Parse(src Source) (Config, error) {
	p := parser{src: src}
	c := Config{}
	c.Environment = p.oneOf("environment", EnvDevelopment, EnvDevelopment, EnvProduction)
	prod := c.Production()
	c.Namespace = p.str("namespace", "hubkit")
	if c.Namespace != "" && !dnsLabel(c.Namespace) {
		p.fail("namespace", "%q is not a DNS label (lowercase letters, digits, '-', at most 63)", c.Namespace)
	}
	c.Replicas = p.integer("replicas", 3)
	if c.Replicas < 1 {
		p.fail("replicas", "must be at least 1, got %d", c.Replicas)
	}
	c.Host = p.str("host", "")
	switch {
	case c.Host == "" && prod:
		p.fail("host", "required for a production stack (the public DNS name, e.g. rt.example.com)")
	case c.Host == "":
		c.Host = "hubkit.localtest.me"
	case !dnsName(c.Host):
		p.fail("host", "%q is not a DNS name", c.Host)
	}
	c.Controller = p.oneOf("ingressController", components.ControllerNginx, components.ControllerNginx, components.ControllerTraefik)
	c.IngressClassName = p.str("ingressClassName", c.Controller)
	c.AffinityCookie = p.str("affinityCookie", "hubkit-affinity")
	c.WebsocketTimeout = p.duration("websocketTimeout", time.Hour)
	if c.WebsocketTimeout < time.Minute && p.ok("websocketTimeout") {
		p.fail("websocketTimeout", "must be at least 1m (Socket.IO pings every 25s), got %s", c.WebsocketTimeout)
	}

	defTLS := components.TLSSelfSigned
	if prod {
		defTLS = components.TLSCertManager
	}
	c.TLS.Mode = p.oneOf("tlsMode", defTLS, components.TLSCertManager, components.TLSSelfSigned, components.TLSSecret, components.TLSNone)
	c.TLS.Issuer = p.str("tlsIssuer", "")
	c.TLS.IssuerKind = p.oneOf("tlsIssuerKind", "ClusterIssuer", "ClusterIssuer", "Issuer")
	c.TLS.SecretName = p.str("tlsSecretName", "")
	switch c.TLS.Mode {
	case components.TLSCertManager:
		if c.TLS.Issuer == "" {
			p.fail("tlsIssuer", "required with tlsMode cert-manager (the name of your (Cluster)Issuer, e.g. letsencrypt-prod)")
		}
	case components.TLSSecret:
		if c.TLS.SecretName == "" {
			p.fail("tlsSecretName", "required with tlsMode secret (an existing kubernetes.io/tls Secret in the namespace)")
		}
	case components.TLSNone:
		if prod {
			p.fail("tlsMode", "none is refused in production")
		}
	case components.TLSSelfSigned:
		if prod {
			p.fail("tlsMode", "self-signed is refused in production (browsers reject it)")
		}
	}

	c.Image = p.str("image", "")
	c.ImageRepository = p.str("imageRepository", "")
	if c.Image != "" {
		if _, err := name.NewDigest(c.Image); err != nil {
			if _, terr := name.ParseReference(c.Image); terr != nil {
				p.fail("image", "%q is not an image reference: %v", c.Image, terr)
			} else if prod {
				p.fail("image", "%q must be pinned by digest (repo@sha256:…) in production", c.Image)
			}
		}
	} else {
		if c.ImageRepository == "" && prod {
			p.fail("imageRepository", "required for a production stack unless image is set (e.g. ghcr.io/acme/hubkit)")
		}
		if c.ImageRepository == "" {
			c.ImageRepository = "localhost:5000/hubkit"
		}
		if _, err := name.NewRepository(c.ImageRepository); err != nil {
			p.fail("imageRepository", "%q: %v", c.ImageRepository, err)
		}
	}
	c.ImagePlatform = p.str("imagePlatform", "linux/amd64")
	if parts := strings.Split(c.ImagePlatform, "/"); len(parts) < 2 || parts[0] != "linux" {
		p.fail("imagePlatform", "%q must be linux/<arch>[/<variant>]", c.ImagePlatform)
	}
	c.HubPackage = p.str("hubPackage", "./service/cmd/hub")

	c.RedisURL = p.secret("redisUrl")
	c.RedisPassword = p.secret("redisPassword")
	c.RedisMode = p.oneOf("redisMode", "streams", "streams", "classic", "sharded")
	c.RedisImage = p.str("redisImage", components.DefaultRedisImage)
	c.RedisStorageSize = p.str("redisStorageSize", "1Gi")
	c.RedisStorageClass = p.str("redisStorageClass", "")
	if c.RedisURL != "" {
		// Passed to the hub verbatim: one server, a Redis Cluster host list
		// (host1:port,host2:port or ?addr=…&cluster=true) or Sentinel.
		u, err := url.Parse(c.RedisURL)
		switch {
		case err != nil || u.Host == "":
			p.fail("redisUrl", "not a redis://, rediss:// or redis-sentinel:// URL")
		case !redisSchemes[u.Scheme]:
			p.fail("redisUrl", "scheme %q: want redis://, rediss://, redis-sentinel:// or rediss-sentinel://", u.Scheme)
		case prod && !strings.HasPrefix(u.Scheme, "rediss"):
			p.fail("redisUrl", "production needs TLS to an external Redis (rediss:// or rediss-sentinel://)")
		}
		if c.RedisPassword != "" {
			p.fail("redisPassword", "set only with the in-cluster Redis; put the password in redisUrl instead")
		}
	} else if prod && c.RedisPassword == "" {
		p.fail("redisPassword", "missing secret: pulumi config set --secret redisPassword <value> (or set redisUrl for an external Redis)")
	}

	c.RecoveryWindow = p.duration("recoveryWindow", 2*time.Minute)
	c.DrainWindow = p.duration("drainWindow", 20*time.Second)
	if c.DrainWindow <= 0 && p.ok("drainWindow") {
		p.fail("drainWindow", "must be positive")
	}
	c.PreStopDelay = p.duration("preStopDelay", 5*time.Second)
	if c.PreStopDelay < 0 {
		p.fail("preStopDelay", "must not be negative")
	}
	c.PingInterval = p.duration("pingInterval", 25*time.Second)
	c.PingTimeout = p.duration("pingTimeout", 20*time.Second)
	c.MaxPayload = p.integer("maxPayload", 1000000)
	if c.MaxPayload < 1 {
		p.fail("maxPayload", "must be positive")
	}
	c.WriteQueue = p.integer("writeQueue", 1024)
	if c.WriteQueue < 1 {
		p.fail("writeQueue", "must be positive")
	}
	rateBad := false
	if v := p.str("clientRate", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			p.fail("clientRate", "%q is not a number of events per second (0 = no limit)", v)
			rateBad = true
		} else {
			c.ClientRate = f
		}
	}
	c.ClientBurst = p.integer("clientBurst", 0)
	switch {
	case c.ClientBurst < 0:
		p.fail("clientBurst", "must not be negative")
	case c.ClientBurst > 0 && c.ClientRate == 0 && !rateBad:
		p.fail("clientBurst", "has no effect without clientRate")
	}
	c.LogLevel = p.oneOf("logLevel", "info", "debug", "info", "warn", "error")
	if v := p.str("allowedOrigins", ""); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.fail("allowedOrigins", "%q is not an http(s) origin", o)
				continue
			}
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	} else if c.TLS.Mode != components.TLSNone {
		c.AllowedOrigins = []string{"https://" + c.Host}
	} else {
		c.AllowedOrigins = []string{"http://" + c.Host}
	}

	c.APIKey = p.secret("apiKey")
	c.JWTSecret = p.secret("jwtSecret")
	c.JWTPublicKey = p.secret("jwtPublicKey")
	if prod && c.APIKey == "" {
		p.fail("apiKey", "missing secret: pulumi config set --secret apiKey <value>")
	}
	if prod && c.JWTSecret == "" && c.JWTPublicKey == "" {
		p.fail("jwtSecret", "missing secret: set jwtSecret (HS256) or jwtPublicKey (PEM) with --secret; production refuses open auth")
	}
	if prod && c.JWTSecret != "" && len(c.JWTSecret) < minProductionSecret {
		p.fail("jwtSecret", "%d bytes; production needs at least %d (the hub refuses shorter HS256 keys)", len(c.JWTSecret), minProductionSecret)
	}
	if c.JWTSecret != "" && c.JWTPublicKey != "" {
		p.fail("jwtPublicKey", "set either jwtSecret or jwtPublicKey, not both")
	}
	if c.JWTPublicKey != "" && !strings.Contains(c.JWTPublicKey, "-----BEGIN PUBLIC KEY-----") {
		p.fail("jwtPublicKey", "not a PEM public key (-----BEGIN PUBLIC KEY-----)")
	}

	c.CABundleConfigMap = p.str("caBundleConfigMap", "")
	c.CABundleKey = p.str("caBundleKey", "ca.crt")
	if c.CABundleConfigMap != "" && !dnsName(c.CABundleConfigMap) {
		p.fail("caBundleConfigMap", "%q is not a ConfigMap name", c.CABundleConfigMap)
	}
	c.HubCPU = p.quantity("hubCpu", "250m")
	c.HubMemory = p.quantity("hubMemory", "256Mi")
	c.RedisCPU = p.quantity("redisCpu", "100m")
	c.RedisMemory = p.quantity("redisMemory", "256Mi")
	return c, p.err()
}

// parser collects one error per bad key.
type parser struct {
	src  Source
	errs []error
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("hubkit:%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid stack configuration:\n%w", errors.Join(p.errs...))
}

func (p *parser) ok(key string) bool {
	_, ok := p.src.Get(key)
	return ok
}

// quantity reads a positive Kubernetes resource quantity ("250m", "512Mi").
func (p *parser) quantity(key, def string) string {
	v := p.str(key, def)
	if q, err := resource.ParseQuantity(v); err != nil || q.Sign() <= 0 {
		p.fail(key, "%q is not a positive Kubernetes quantity (e.g. 250m, 512Mi)", v)
		return def
	}
	return v
}

func (p *parser) str(key, def string) string {
	v, ok := p.src.Get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}

func (p *parser) secret(key string) string {
	v, ok := p.src.Get(key)
	if !ok || v == "" {
		return ""
	}
	if !p.src.IsSecret(key) {
		p.fail(key, "stored in plain text; set it with: pulumi config set --secret %s <value>", key)
	}
	return v
}

func (p *parser) oneOf(key, def string, allowed ...string) string {
	v := p.str(key, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(key, "unknown value %q (want one of: %s)", v, strings.Join(allowed, ", "))
	return def
}

func (p *parser) integer(key string, def int) int {
	v, ok := p.src.Get(key)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.fail(key, "%q is not an integer", v)
		return def
	}
	return n
}

func (p *parser) duration(key string, def time.Duration) time.Duration {
	v, ok := p.src.Get(key)
	if !ok || v == "" {
		return def
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		p.fail(key, "%q is not a duration (e.g. 20s, 2m)", v)
		return def
	}
	if d < 0 {
		p.fail(key, "must not be negative")
		return def
	}
	return d
}

func dnsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func dnsName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabel(l) {
			return false
		}
	}
	return true
}
