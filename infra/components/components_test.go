package components

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hubkit/hubkit/infra/imagebuild"
	"github.com/hubkit/hubkit/infra/internal/pulumimock"
)

const (
	tDeployment = "kubernetes:apps/v1:Deployment"
	tStateful   = "kubernetes:apps/v1:StatefulSet"
	tService    = "kubernetes:core/v1:Service"
	tSecret     = "kubernetes:core/v1:Secret"
	tIngress    = "kubernetes:networking.k8s.io/v1:Ingress"
	tNetpol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tPDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	tCustom     = "kubernetes:cert-manager.io/v1:Issuer"
)

func runMocks(t *testing.T, dryRun bool, program pulumi.RunFunc) *pulumimock.Recorder {
	t.Helper()
	rec := pulumimock.New()
	if err := rec.Run(program, "test", nil, nil, dryRun); err != nil {
		t.Fatal(err)
	}
	return rec
}

func get(t *testing.T, rec *pulumimock.Recorder, typ, name string) pulumimock.Resource {
	t.Helper()
	r, ok := rec.Get(typ, name)
	if !ok {
		var have []string
		for _, r := range rec.Resources() {
			have = append(have, r.Key())
		}
		t.Fatalf("%s %s not registered; have %v", typ, name, have)
	}
	return r
}

func hubArgs() *HubArgs {
	return &HubArgs{
		Namespace: pulumi.String("hubkit"),
		Image:     pulumi.String("localhost:5000/hubkit@sha256:" + strings.Repeat("a", 64)),
		Settings:  HubSettings{Env: "production", RedisMode: "classic", RecoveryWindow: 2 * time.Minute},
		Secrets:   HubSecrets{RedisURL: pulumi.ToSecret(pulumi.String("redis://x:6379")).(pulumi.StringOutput)},
	}
}

func TestHubDrainTimingsMatchHubConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		preStop, drain  time.Duration
		wantGrace       int
		wantPreStop     string
		wantDrainEnvVal string
	}{
		{"defaults", 0, 0, 35, "5", "20s"},
		{"long drain", 10 * time.Second, 60 * time.Second, 80, "10", "1m0s"},
		{"sub-second rounds up", 1500 * time.Millisecond, 20 * time.Second, 32, "2", "20s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := runMocks(t, true, func(ctx *pulumi.Context) error {
				a := hubArgs()
				a.PreStopDelay, a.Settings.DrainWindow = tt.preStop, tt.drain
				_, err := NewHub(ctx, "hub", a)
				return err
			})
			d := get(t, rec, tDeployment, HubName)
			grace, _ := strconv.Atoi(d.Value("spec.template.spec.terminationGracePeriodSeconds"))
			if grace != tt.wantGrace {
				t.Errorf("terminationGracePeriodSeconds = %d, want %d", grace, tt.wantGrace)
			}
			c := "spec.template.spec.containers[0]."
			preStop := d.Value(c + "lifecycle.preStop.sleep.seconds")
			if preStop != tt.wantPreStop {
				t.Errorf("preStop sleep = %s, want %s", preStop, tt.wantPreStop)
			}
			env := containerEnv(d, c)
			if env["HUB_DRAIN_WINDOW"] != tt.wantDrainEnvVal {
				t.Errorf("HUB_DRAIN_WINDOW = %q, want %q", env["HUB_DRAIN_WINDOW"], tt.wantDrainEnvVal)
			}
			drain, err := time.ParseDuration(env["HUB_DRAIN_WINDOW"])
			if err != nil {
				t.Fatal(err)
			}
			ps, _ := strconv.Atoi(preStop)
			if time.Duration(ps)*time.Second+drain+DrainMargin > time.Duration(grace)*time.Second {
				t.Errorf("preStop %ds + drain %s + margin %s > grace %ds", ps, drain, DrainMargin, grace)
			}
		})
	}
}

func TestHubProbesAndPorts(t *testing.T) {
	t.Parallel()
	rec := runMocks(t, true, func(ctx *pulumi.Context) error { _, err := NewHub(ctx, "hub", hubArgs()); return err })
	d := get(t, rec, tDeployment, HubName)
	c := "spec.template.spec.containers[0]."
	want := map[string]string{
		c + "readinessProbe.httpGet.path":                             "/readyz",
		c + "readinessProbe.httpGet.port":                             HubPortName,
		c + "livenessProbe.httpGet.path":                              "/healthz",
		c + "livenessProbe.httpGet.port":                              HubPortName,
		c + "startupProbe.httpGet.path":                               "/healthz",
		c + "ports[0].name":                                           HubPortName,
		c + "ports[0].containerPort":                                  "3000",
		"spec.strategy.rollingUpdate.maxUnavailable":                  "0",
		"spec.template.metadata.annotations.prometheus.io/scrape":     "true",
		"spec.template.metadata.annotations.prometheus.io/port":       "3000",
		"spec.template.metadata.annotations.prometheus.io/path":       "/metrics",
		"spec.template.spec.topologySpreadConstraints[0].topologyKey": "kubernetes.io/hostname",
		c + "resources.requests.cpu":                                  "250m",
		c + "resources.limits.memory":                                 "256Mi",
	}
	for path, v := range want {
		if got := d.Value(path); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	env := containerEnv(d, c)
	if env["HUB_ADDR"] != ":3000" {
		t.Errorf("HUB_ADDR = %q, the probes target port 3000", env["HUB_ADDR"])
	}
	if env["GOMEMLIMIT"] != "241591860" { // 90 % of 256Mi, in bytes
		t.Errorf("GOMEMLIMIT = %q, want 90 %% of the 256Mi limit", env["GOMEMLIMIT"])
	}
	svc := get(t, rec, tService, HubName)
	if svc.Value("spec.ports[0].targetPort") != HubPortName {
		t.Errorf("service targets %s", svc.Value("spec.ports[0].targetPort"))
	}
	pdb := get(t, rec, tPDB, HubName)
	if pdb.Value("spec.maxUnavailable") != "1" {
		t.Errorf("PDB maxUnavailable = %s", pdb.Value("spec.maxUnavailable"))
	}
	for k, v := range HubSelector() {
		if pdb.Value("spec.selector.matchLabels."+k) != v || svc.Value("spec.selector."+k) != v {
			t.Errorf("PDB/Service selector misses %s=%s", k, v)
		}
	}
}

func TestSecurityContexts(t *testing.T) {
	t.Parallel()
	rec := runMocks(t, true, func(ctx *pulumi.Context) error {
		if _, err := NewHub(ctx, "hub", hubArgs()); err != nil {
			return err
		}
		_, err := NewRedis(ctx, "redis", &RedisArgs{Namespace: pulumi.String("hubkit")})
		return err
	})
	for _, r := range []pulumimock.Resource{get(t, rec, tDeployment, HubName), get(t, rec, tStateful, RedisName)} {
		pod := "spec.template.spec."
		c := pod + "containers[0].securityContext."
		want := map[string]string{
			pod + "securityContext.runAsNonRoot":        "true",
			pod + "securityContext.seccompProfile.type": "RuntimeDefault",
			pod + "automountServiceAccountToken":        "false",
			c + "readOnlyRootFilesystem":                "true",
			c + "allowPrivilegeEscalation":              "false",
			c + "privileged":                            "false",
			c + "runAsNonRoot":                          "true",
			c + "capabilities.drop[0]":                  "ALL",
		}
		for path, v := range want {
			if got := r.Value(path); got != v {
				t.Errorf("%s %s = %q, want %q", r.Key(), path, got, v)
			}
		}
		if uid, _ := strconv.Atoi(r.Value(pod + "securityContext.runAsUser")); uid == 0 {
			t.Errorf("%s runs as root", r.Key())
		}
	}
}

func TestRedisNetworkPolicyAdmitsOnlyHubPods(t *testing.T) {
	t.Parallel()
	rec := runMocks(t, true, func(ctx *pulumi.Context) error {
		if _, err := NewHub(ctx, "hub", hubArgs()); err != nil {
			return err
		}
		_, err := NewRedis(ctx, "redis", &RedisArgs{Namespace: pulumi.String("hubkit")})
		return err
	})
	np := get(t, rec, tNetpol, RedisName)
	from := np.Prefixed("spec.ingress[0].from[")
	podLabels := get(t, rec, tDeployment, HubName).Prefixed("spec.template.metadata.labels.")
	selector := map[string]string{}
	for path, leaf := range from {
		k, ok := strings.CutPrefix(path, "spec.ingress[0].from[0].podSelector.matchLabels.")
		if !ok {
			t.Errorf("unexpected peer field %s (only a podSelector is allowed)", path)
			continue
		}
		selector[k] = leaf.Value
	}
	if len(selector) == 0 {
		t.Fatal("NetworkPolicy admits no pods")
	}
	for k, v := range selector {
		if podLabels["spec.template.metadata.labels."+k].Value != v {
			t.Errorf("NetworkPolicy selects %s=%s, which hub pods do not carry", k, v)
		}
	}
	redisPods := get(t, rec, tStateful, RedisName).Prefixed("spec.template.metadata.labels.")
	for k, v := range RedisSelector() {
		if np.Value("spec.podSelector.matchLabels."+k) != v || redisPods["spec.template.metadata.labels."+k].Value != v {
			t.Errorf("policy does not target the Redis pods on %s=%s", k, v)
		}
	}
	if np.Value("spec.ingress[0].ports[0].port") != "6379" || np.Value("spec.policyTypes[0]") != "Ingress" {
		t.Errorf("policy ports/types: %v", np.Prefixed("spec."))
	}
	// And Redis gets no PodDisruptionBudget (single replica would block drains).
	for _, r := range rec.OfType(tPDB) {
		if r.Name == RedisName {
			t.Error("Redis has a PDB")
		}
	}
}

func TestRedisPersistenceAndPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password pulumi.StringInput
		wantAuth bool
	}{
		{"dev without password", nil, false},
		{"with password", pulumi.ToSecret(pulumi.String("p@ss/word")).(pulumi.StringOutput), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := runMocks(t, false, func(ctx *pulumi.Context) error {
				r, err := NewRedis(ctx, "redis", &RedisArgs{Namespace: pulumi.String("hubkit"), Password: tt.password, StorageSize: "5Gi"})
				if err != nil {
					return err
				}
				return probe(ctx, r.URL)
			})
			sec := get(t, rec, tSecret, RedisName)
			conf := sec.Prefixed("stringData.redis.conf")["stringData.redis.conf"]
			if !strings.Contains(conf.Value, "appendonly yes") || !strings.Contains(conf.Value, "dir /data") {
				t.Errorf("redis.conf lacks AOF on /data: %q", conf.Value)
			}
			if got := strings.Contains(conf.Value, "requirepass p@ss/word"); got != tt.wantAuth {
				t.Errorf("requirepass present = %v, want %v", got, tt.wantAuth)
			}
			if tt.wantAuth && !conf.Secret {
				t.Error("redis.conf with a password is not secret")
			}
			ss := get(t, rec, tStateful, RedisName)
			if !strings.Contains(ss.Value("spec.template.spec.containers[0].image"), "@sha256:") {
				t.Error("Redis image not pinned by digest")
			}
			if ss.Value("spec.volumeClaimTemplates[0].spec.resources.requests.storage") != "5Gi" ||
				ss.Value("spec.template.spec.containers[0].volumeMounts[0].mountPath") != "/data" {
				t.Error("AOF volume not on a 5Gi PVC at /data")
			}
			if ss.Value("spec.template.spec.containers[0].readinessProbe.exec.command[2]") == "" ||
				ss.Value("spec.template.spec.containers[0].livenessProbe.tcpSocket.port") != "redis" {
				t.Error("Redis probes missing")
			}
			wantURL := "redis://hubkit-redis.hubkit.svc.cluster.local:6379/0"
			if tt.wantAuth {
				wantURL = "redis://:p%40ss%2Fword@hubkit-redis.hubkit.svc.cluster.local:6379/0"
			}
			url := probed(t, rec)
			if url != wantURL {
				t.Errorf("URL = %q, want %q", url, wantURL)
			}
		})
	}
}

func TestEdgeAffinityPerController(t *testing.T) {
	t.Parallel()
	tests := []struct {
		controller string
		ingress    map[string]string
		service    map[string]string
		wantClass  string
		notIngress []string
	}{
		{
			controller: ControllerNginx,
			ingress: map[string]string{
				"nginx.ingress.kubernetes.io/affinity":              "cookie",
				"nginx.ingress.kubernetes.io/affinity-mode":         "persistent",
				"nginx.ingress.kubernetes.io/session-cookie-name":   "hubkit-affinity",
				"nginx.ingress.kubernetes.io/proxy-read-timeout":    "3600",
				"nginx.ingress.kubernetes.io/proxy-send-timeout":    "3600",
				"nginx.ingress.kubernetes.io/session-cookie-secure": "true",
			},
			wantClass:  "nginx",
			notIngress: []string{"traefik.ingress.kubernetes.io/router.entrypoints"},
		},
		{
			controller: ControllerTraefik,
			ingress: map[string]string{
				"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
				"traefik.ingress.kubernetes.io/router.tls":         "true",
			},
			service: map[string]string{
				"traefik.ingress.kubernetes.io/service.sticky.cookie":        "true",
				"traefik.ingress.kubernetes.io/service.sticky.cookie.name":   "hubkit-affinity",
				"traefik.ingress.kubernetes.io/service.sticky.cookie.secure": "true",
			},
			wantClass:  "traefik",
			notIngress: []string{"nginx.ingress.kubernetes.io/affinity"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.controller, func(t *testing.T) {
			t.Parallel()
			rec := runMocks(t, true, func(ctx *pulumi.Context) error {
				a := hubArgs()
				a.ServiceAnnotations = ServiceAnnotations(tt.controller, "", true)
				h, err := NewHub(ctx, "hub", a)
				if err != nil {
					return err
				}
				_, err = NewEdge(ctx, "edge", &EdgeArgs{
					Namespace: pulumi.String("hubkit"), Host: "rt.example.com", ServiceName: h.ServiceName,
					Controller: tt.controller, TLS: EdgeTLS{Mode: TLSCertManager, Issuer: "le"},
				})
				return err
			})
			ing := get(t, rec, tIngress, EdgeName)
			for k, v := range tt.ingress {
				if got := ing.Value("metadata.annotations." + k); got != v {
					t.Errorf("ingress %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.notIngress {
				if ing.Value("metadata.annotations."+k) != "" {
					t.Errorf("ingress carries the other controller's %s", k)
				}
			}
			svc := get(t, rec, tService, HubName)
			for k, v := range tt.service {
				if got := svc.Value("metadata.annotations." + k); got != v {
					t.Errorf("service %s = %q, want %q", k, got, v)
				}
			}
			if len(tt.service) == 0 && len(svc.Prefixed("metadata.annotations.")) != 0 {
				t.Errorf("nginx service carries annotations: %v", svc.Prefixed("metadata.annotations."))
			}
			if ing.Value("spec.ingressClassName") != tt.wantClass {
				t.Errorf("ingressClassName = %s", ing.Value("spec.ingressClassName"))
			}
			if ing.Value("spec.rules[0].http.paths[0].backend.service.name") != HubName ||
				ing.Value("spec.rules[0].http.paths[0].path") != "/socket.io/" {
				t.Errorf("ingress backend: %v", ing.Prefixed("spec.rules"))
			}
		})
	}
}

func TestEdgeTLSModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tls        EdgeTLS
		wantAnn    map[string]string
		wantSecret string // "" = no spec.tls
		wantIssuer bool
		wantURL    string
	}{
		{"cluster issuer", EdgeTLS{Mode: TLSCertManager, Issuer: "letsencrypt-prod"},
			map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt-prod"}, DefaultTLSSecret, false, "https://rt.example.com"},
		{"namespaced issuer", EdgeTLS{Mode: TLSCertManager, Issuer: "mine", IssuerKind: "Issuer"},
			map[string]string{"cert-manager.io/issuer": "mine"}, DefaultTLSSecret, false, "https://rt.example.com"},
		{"self-signed", EdgeTLS{Mode: TLSSelfSigned},
			map[string]string{"cert-manager.io/issuer": SelfSignedIssuer}, DefaultTLSSecret, true, "https://rt.example.com"},
		{"existing secret", EdgeTLS{Mode: TLSSecret, SecretName: "wildcard-tls"},
			map[string]string{}, "wildcard-tls", false, "https://rt.example.com"},
		{"none", EdgeTLS{Mode: TLSNone}, map[string]string{}, "", false, "http://rt.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := runMocks(t, true, func(ctx *pulumi.Context) error {
				e, err := NewEdge(ctx, "edge", &EdgeArgs{
					Namespace: pulumi.String("hubkit"), Host: "rt.example.com",
					ServiceName: pulumi.String(HubName), TLS: tt.tls,
				})
				if err != nil {
					return err
				}
				return probe(ctx, e.URL)
			})
			ing := get(t, rec, tIngress, EdgeName)
			for k, v := range tt.wantAnn {
				if got := ing.Value("metadata.annotations." + k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			ann := ing.Prefixed("metadata.annotations.cert-manager.io/")
			if len(ann) != len(tt.wantAnn) {
				t.Errorf("cert-manager annotations %v, want %v", ann, tt.wantAnn)
			}
			if got := ing.Value("spec.tls[0].secretName"); got != tt.wantSecret {
				t.Errorf("spec.tls secret = %q, want %q", got, tt.wantSecret)
			}
			if tt.wantSecret != "" && ing.Value("spec.tls[0].hosts[0]") != "rt.example.com" {
				t.Error("spec.tls does not cover the host")
			}
			_, hasIssuer := rec.Get(tCustom, SelfSignedIssuer)
			if hasIssuer != tt.wantIssuer {
				t.Errorf("self-signed Issuer created = %v, want %v", hasIssuer, tt.wantIssuer)
			}
			if hasIssuer {
				iss := get(t, rec, tCustom, SelfSignedIssuer)
				if iss.Value("spec.selfSigned") != "{}" {
					t.Errorf("issuer spec %v", iss.Prefixed("spec"))
				}
			}
			if url := probed(t, rec); url != tt.wantURL {
				t.Errorf("URL = %q, want %q", url, tt.wantURL)
			}
		})
	}
}

func TestComponentArgErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(ctx *pulumi.Context) error
		want string
	}{
		{"nil hub args", func(ctx *pulumi.Context) error { _, err := NewHub(ctx, "h", nil); return err }, "args are required"},
		{"nil redis args", func(ctx *pulumi.Context) error { _, err := NewRedis(ctx, "r", nil); return err }, "args are required"},
		{"nil edge args", func(ctx *pulumi.Context) error { _, err := NewEdge(ctx, "e", nil); return err }, "args are required"},
		{"nil image args", func(ctx *pulumi.Context) error { _, err := NewImage(ctx, "i", nil); return err }, "args are required"},
		{"edge unknown controller", func(ctx *pulumi.Context) error {
			_, err := NewEdge(ctx, "e", &EdgeArgs{Namespace: pulumi.String("n"), Host: "h.example.com", ServiceName: pulumi.String("s"), Controller: "haproxy", TLS: EdgeTLS{Mode: TLSNone}})
			return err
		}, "unknown controller"},
		{"edge cert-manager without issuer", func(ctx *pulumi.Context) error {
			_, err := NewEdge(ctx, "e", &EdgeArgs{Namespace: pulumi.String("n"), Host: "h.example.com", ServiceName: pulumi.String("s")})
			return err
		}, "needs an issuer"},
		{"hub memory not a quantity", func(ctx *pulumi.Context) error {
			a := hubArgs()
			a.Memory = "lots"
			_, err := NewHub(ctx, "h", a)
			return err
		}, "not a positive Kubernetes quantity"},
		{"image without repository", func(ctx *pulumi.Context) error { _, err := NewImage(ctx, "i", &ImageArgs{}); return err }, "Repository is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := pulumimock.New().Run(tt.run, "test", nil, nil, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// recordingBuilder returns a fixed digest and records pushes.
type recordingBuilder struct{ pushes []string }

func (b *recordingBuilder) Build(context.Context, imagebuild.Config) (string, any, error) {
	return "sha256:" + strings.Repeat("b", 64), nil, nil
}

func (b *recordingBuilder) Push(_ context.Context, _ any, repo string) (string, error) {
	b.pushes = append(b.pushes, repo)
	return repo + "@sha256:" + strings.Repeat("b", 64), nil
}

func TestImagePushesOnlyOnUp(t *testing.T) {
	t.Parallel()
	for _, dryRun := range []bool{true, false} {
		t.Run(strconv.FormatBool(dryRun), func(t *testing.T) {
			t.Parallel()
			b := &recordingBuilder{}
			rec := runMocks(t, dryRun, func(ctx *pulumi.Context) error {
				img, err := NewImage(ctx, "img", &ImageArgs{Repository: "localhost:5000/hubkit", Builder: b})
				if err != nil {
					return err
				}
				return probe(ctx, img.Ref)
			})
			want := 1
			if dryRun {
				want = 0
			}
			if len(b.pushes) != want {
				t.Fatalf("pushes = %d, want %d", len(b.pushes), want)
			}
			if ref := probed(t, rec); ref != "localhost:5000/hubkit@sha256:"+strings.Repeat("b", 64) {
				t.Fatalf("ref = %s", ref)
			}
		})
	}
}

func containerEnv(r pulumimock.Resource, c string) map[string]string {
	leaves := r.Prefixed(c + "env[")
	out := map[string]string{}
	for i := 0; ; i++ {
		p := c + "env[" + strconv.Itoa(i) + "]"
		name, ok := leaves[p+".name"]
		if !ok {
			return out
		}
		out[name.Value] = leaves[p+".value"].Value
	}
}

// probe registers a test resource whose one input is out, so the recorder
// sees the output's value exactly as the engine would (unknown in preview if
// it were unknown).
func probe(ctx *pulumi.Context, out pulumi.StringOutput) error {
	var r pulumi.CustomResourceState
	return ctx.RegisterResource("test:index:Probe", "probe", pulumi.Map{"value": out}, &r)
}

func probed(t *testing.T, rec *pulumimock.Recorder) string {
	t.Helper()
	return get(t, rec, "test:index:Probe", "probe").Value("value")
}

func TestHubCABundle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configMap string
		wantFile  string
	}{
		{"none", "", ""},
		{"trust bundle", "public-roots", "/etc/hubkit/ca/ca.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := runMocks(t, true, func(ctx *pulumi.Context) error {
				a := hubArgs()
				a.CABundleConfigMap = tt.configMap
				_, err := NewHub(ctx, "hub", a)
				return err
			})
			d := get(t, rec, tDeployment, HubName)
			c := "spec.template.spec.containers[0]."
			if got := containerEnv(d, c)["SSL_CERT_FILE"]; got != tt.wantFile {
				t.Fatalf("SSL_CERT_FILE = %q, want %q", got, tt.wantFile)
			}
			if tt.configMap == "" {
				return
			}
			if d.Value("spec.template.spec.volumes[1].configMap.name") != tt.configMap ||
				d.Value(c+"volumeMounts[1].mountPath") != "/etc/hubkit/ca" || d.Value(c+"volumeMounts[1].readOnly") != "true" {
				t.Errorf("CA bundle not mounted: %v", d.Prefixed("spec.template.spec.volumes"))
			}
		})
	}
}

// The Issuer (a CustomResource) must ask for the same provider version as the
// typed resources, i.e. the SDK version go.mod requires.
func TestKubernetesVersionMatchesGoMod(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == kubernetesSDK {
			want = strings.TrimPrefix(f[1], "v")
		}
	}
	if want == "" {
		t.Fatalf("go.mod does not require %s", kubernetesSDK)
	}
	opts := kubernetesVersion()
	if len(opts) != 1 {
		t.Fatalf("kubernetesVersion() = %d options, want 1 (version %s)", len(opts), want)
	}
	got, err := pulumi.NewResourceOptions(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != want {
		t.Fatalf("provider version = %q, want %q from go.mod", got.Version, want)
	}
}
