package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"
)

// DrainMargin is the slack added on top of preStop delay + drain window in
// terminationGracePeriodSeconds, so the hub's own drain always finishes
// before the kubelet's SIGKILL.
const DrainMargin = 10 * time.Second

// HubSettings are the hub's plain (non-secret) settings, passed as HUB_*
// environment variables. Zero values are left unset so the hub's own
// defaults apply.
type HubSettings struct {
	Env            string        // HUB_ENV: development | production
	RedisMode      string        // HUB_REDIS_MODE: streams | classic | sharded
	RecoveryWindow time.Duration // HUB_RECOVERY_WINDOW (0 = off, always set)
	DrainWindow    time.Duration // HUB_DRAIN_WINDOW; also sizes the pod's grace period. Default 20s.
	PingInterval   time.Duration // HUB_PING_INTERVAL
	PingTimeout    time.Duration // HUB_PING_TIMEOUT
	MaxPayload     int           // HUB_MAX_PAYLOAD
	WriteQueue     int           // HUB_WRITE_QUEUE
	ClientRate     float64       // HUB_CLIENT_RATE (0 = no limit)
	ClientBurst    int           // HUB_CLIENT_BURST
	LogLevel       string        // HUB_LOG_LEVEL
	AllowedOrigins []string      // HUB_ALLOWED_ORIGINS
}

// HubSecrets are the hub's secret settings. Each must be a secret output
// (pulumi.ToSecret / config.RequireSecret); nil = not set. They are stored
// in one Kubernetes Secret and reach the pod through secretKeyRef.
type HubSecrets struct {
	RedisURL     pulumi.StringInput // REDIS_URL
	APIKey       pulumi.StringInput // HUB_API_KEY
	JWTSecret    pulumi.StringInput // HUB_JWT_SECRET
	JWTPublicKey pulumi.StringInput // HUB_JWT_PUBLIC_KEY
}

// HubArgs configures the Hub component.
type HubArgs struct {
	// Namespace and Image ("repo@sha256:…") are required.
	Namespace pulumi.StringInput
	Image     pulumi.StringInput
	// Replicas defaults to 3.
	Replicas int
	// PreStopDelay keeps a terminating pod serving while endpoints and
	// ingress controllers catch up. Default 5s.
	PreStopDelay time.Duration
	Settings     HubSettings
	Secrets      HubSecrets
	// ServiceAnnotations go on the Service (Traefik's sticky cookie lives there).
	ServiceAnnotations map[string]string
	// CPU request (default "250m"); Memory request and limit (default "256Mi").
	CPU, Memory string
	// CABundleConfigMap, when set, names a ConfigMap whose key CABundleKey
	// (default "ca.crt") holds PEM CA certificates; it is mounted read-only
	// and SSL_CERT_FILE points at it. The image is FROM scratch and carries
	// no CA bundle, so a rediss:// Redis needs this (or roots in the binary).
	CABundleConfigMap, CABundleKey string
}

// caBundleDir is where the CA bundle ConfigMap is mounted.
const caBundleDir = "/etc/hubkit/ca"

// Hub is the hub Deployment with its Service, PodDisruptionBudget and Secret.
type Hub struct {
	pulumi.ResourceState

	// ServiceName and ServicePort are the Ingress backend.
	ServiceName pulumi.StringOutput
	ServicePort pulumi.IntOutput
	// Replicas as deployed.
	Replicas pulumi.IntOutput
}

// GracePeriod returns terminationGracePeriodSeconds for a preStop delay and
// drain window: preStop + drain + DrainMargin, rounded up to seconds.
func GracePeriod(preStop, drain time.Duration) int {
	return seconds(preStop + drain + DrainMargin)
}

// NewHub registers the component and its children.
func NewHub(ctx *pulumi.Context, name string, args *HubArgs, opts ...pulumi.ResourceOption) (*Hub, error) {
	if err := requireArgs(args, "Hub"); err != nil {
		return nil, err
	}
	if args.Namespace == nil || args.Image == nil {
		return nil, fmt.Errorf("components: Hub: Namespace and Image are required")
	}
	a := *args
	if a.Replicas == 0 {
		a.Replicas = 3
	}
	if a.Replicas < 0 {
		return nil, fmt.Errorf("components: Hub: Replicas %d < 1", a.Replicas)
	}
	if a.PreStopDelay == 0 {
		a.PreStopDelay = 5 * time.Second
	}
	if a.Settings.DrainWindow == 0 {
		a.Settings.DrainWindow = 20 * time.Second
	}
	if a.CPU == "" {
		a.CPU = "250m"
	}
	if a.CABundleConfigMap != "" && a.CABundleKey == "" {
		a.CABundleKey = "ca.crt"
	}
	if a.Memory == "" {
		a.Memory = "256Mi"
	}
	memLimit, err := resource.ParseQuantity(a.Memory)
	if err != nil || memLimit.Sign() <= 0 {
		return nil, fmt.Errorf("components: Hub: Memory %q is not a positive Kubernetes quantity", a.Memory)
	}
	h := &Hub{}
	if err := ctx.RegisterComponentResource(componentType+"Hub", name, h, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(h)
	labels := objectLabels(HubSelector())
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: a.Namespace, Labels: labels}
	}

	secretData, secretEnv := hubSecretEnv(a.Secrets)
	var deps []pulumi.Resource
	if len(secretData) > 0 {
		s, err := corev1.NewSecret(ctx, HubName, &corev1.SecretArgs{
			Metadata: meta(HubName), Type: pulumi.String("Opaque"), StringData: secretData,
		}, parent)
		if err != nil {
			return nil, err
		}
		deps = append(deps, s)
	}

	svcMeta := meta(HubName)
	if len(a.ServiceAnnotations) > 0 {
		svcMeta.Annotations = stringMap(a.ServiceAnnotations)
	}
	svc, err := corev1.NewService(ctx, HubName, &corev1.ServiceArgs{
		Metadata: svcMeta,
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: stringMap(HubSelector()),
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{
				Name: pulumi.String(HubPortName), Port: pulumi.Int(HubSvcPort),
				TargetPort: pulumi.String(HubPortName), Protocol: pulumi.String("TCP"),
			}},
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	dep, err := appsv1.NewDeployment(ctx, HubName, &appsv1.DeploymentArgs{
		Metadata: meta(HubName),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas:             pulumi.Int(a.Replicas),
			RevisionHistoryLimit: pulumi.Int(5),
			MinReadySeconds:      pulumi.Int(5),
			Selector:             &metav1.LabelSelectorArgs{MatchLabels: stringMap(HubSelector())},
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
					MaxUnavailable: pulumi.Int(0),
					MaxSurge:       pulumi.Int(1),
				},
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      labels,
					Annotations: podAnnotations(secretData),
				},
				Spec: hubPodSpec(a, append(append(append(hubPlainEnv(a.Settings), runtimeEnv(memLimit)...), caEnv(a)...), secretEnv...)),
			},
		},
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}

	if _, err := policyv1.NewPodDisruptionBudget(ctx, HubName, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta(HubName),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			// maxUnavailable (not minAvailable) never blocks drains at replicas=1.
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: stringMap(HubSelector())},
		},
	}, parent); err != nil {
		return nil, err
	}

	h.ServiceName = svc.Metadata.Name().Elem()
	h.ServicePort = pulumi.Int(HubSvcPort).ToIntOutput()
	h.Replicas = dep.Spec.Replicas().Elem()
	if err := ctx.RegisterResourceOutputs(h, pulumi.Map{
		"serviceName": h.ServiceName, "servicePort": h.ServicePort, "replicas": h.Replicas,
	}); err != nil {
		return nil, err
	}
	return h, nil
}

// SecretsChecksumAnnotation carries a digest of the hub Secret's data on the
// pod template, so rotating a secret rolls the pods (env from a Secret is
// read only at container start). The value is itself a Pulumi secret.
const SecretsChecksumAnnotation = "hubkit.io/secrets-sha256"

func podAnnotations(secretData pulumi.StringMap) pulumi.StringMap {
	ann := pulumi.StringMap{
		"prometheus.io/scrape": pulumi.String("true"),
		"prometheus.io/port":   pulumi.String(strconv.Itoa(HubPort)),
		"prometheus.io/path":   pulumi.String("/metrics"),
	}
	if len(secretData) == 0 {
		return ann
	}
	keys := make([]string, 0, len(secretData))
	for k := range secretData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = secretData[k]
	}
	sum := pulumi.All(vals...).ApplyT(func(vs []any) string {
		h := sha256.New()
		for i, v := range vs {
			fmt.Fprintf(h, "%s=%d:%s\n", keys[i], len(v.(string)), v.(string))
		}
		return hex.EncodeToString(h.Sum(nil))
	}).(pulumi.StringOutput)
	ann[SecretsChecksumAnnotation] = pulumi.ToSecret(sum).(pulumi.StringOutput)
	return ann
}

func hubPlainEnv(s HubSettings) corev1.EnvVarArray {
	env := corev1.EnvVarArray{}
	add := func(k, v string) {
		if v != "" {
			env = append(env, &corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(v)})
		}
	}
	itoa := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return goDuration(d)
	}
	add("HUB_ADDR", fmt.Sprintf(":%d", HubPort))
	add("HUB_ENV", s.Env)
	add("HUB_REDIS_MODE", s.RedisMode)
	add("HUB_RECOVERY_WINDOW", goDuration(s.RecoveryWindow))
	add("HUB_DRAIN_WINDOW", goDuration(s.DrainWindow))
	add("HUB_PING_INTERVAL", dur(s.PingInterval))
	add("HUB_PING_TIMEOUT", dur(s.PingTimeout))
	add("HUB_MAX_PAYLOAD", itoa(s.MaxPayload))
	add("HUB_WRITE_QUEUE", itoa(s.WriteQueue))
	if s.ClientRate > 0 {
		add("HUB_CLIENT_RATE", strconv.FormatFloat(s.ClientRate, 'g', -1, 64))
	}
	add("HUB_CLIENT_BURST", itoa(s.ClientBurst))
	add("HUB_LOG_LEVEL", s.LogLevel)
	add("HUB_ALLOWED_ORIGINS", strings.Join(s.AllowedOrigins, ","))
	// The pod name tags logs and the X-Hub-Replica response header.
	env = append(env, &corev1.EnvVarArgs{
		Name: pulumi.String("HUB_REPLICA_ID"),
		ValueFrom: &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{
			FieldPath: pulumi.String("metadata.name"),
		}},
	})
	return env
}

// hubSecretEnv returns the Secret's data and the env vars that reference it.
func hubSecretEnv(s HubSecrets) (pulumi.StringMap, corev1.EnvVarArray) {
	data := pulumi.StringMap{}
	env := corev1.EnvVarArray{}
	for _, kv := range []struct {
		env, key string
		val      pulumi.StringInput
	}{
		{"REDIS_URL", "redis-url", s.RedisURL},
		{"HUB_API_KEY", "api-key", s.APIKey},
		{"HUB_JWT_SECRET", "jwt-secret", s.JWTSecret},
		{"HUB_JWT_PUBLIC_KEY", "jwt-public-key", s.JWTPublicKey},
	} {
		if kv.val == nil {
			continue
		}
		data[kv.key] = pulumi.ToSecret(kv.val).(pulumi.StringOutput)
		env = append(env, &corev1.EnvVarArgs{
			Name: pulumi.String(kv.env),
			ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
				Name: pulumi.String(HubName), Key: pulumi.String(kv.key),
			}},
		})
	}
	return data, env
}

// GoMemLimitPercent is the share of the container's memory limit given to
// the Go runtime as GOMEMLIMIT: near the limit the GC works harder instead
// of the kernel killing the pod; the rest is headroom for memory the Go
// runtime does not count (thread stacks outside the heap, the binary).
const GoMemLimitPercent = 90

// runtimeEnv sets GOMEMLIMIT to GoMemLimitPercent of the memory limit, in
// bytes. (GOMAXPROCS is left to the runtime: Go 1.25+ follows a cgroup CPU
// limit when one is set; the kit sets a CPU request only.)
func runtimeEnv(limit resource.Quantity) corev1.EnvVarArray {
	b := limit.Value() / 100 * GoMemLimitPercent
	return corev1.EnvVarArray{&corev1.EnvVarArgs{
		Name: pulumi.String("GOMEMLIMIT"), Value: pulumi.String(strconv.FormatInt(b, 10)),
	}}
}

func caEnv(a HubArgs) corev1.EnvVarArray {
	if a.CABundleConfigMap == "" {
		return nil
	}
	return corev1.EnvVarArray{&corev1.EnvVarArgs{
		Name: pulumi.String("SSL_CERT_FILE"), Value: pulumi.String(caBundleDir + "/" + a.CABundleKey),
	}}
}

func hubPodSpec(a HubArgs, env corev1.EnvVarArray) *corev1.PodSpecArgs {
	mounts := corev1.VolumeMountArray{&corev1.VolumeMountArgs{
		Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp"),
	}}
	volumes := corev1.VolumeArray{&corev1.VolumeArgs{
		Name:     pulumi.String("tmp"),
		EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")},
	}}
	if a.CABundleConfigMap != "" {
		mounts = append(mounts, &corev1.VolumeMountArgs{
			Name: pulumi.String("ca-bundle"), MountPath: pulumi.String(caBundleDir), ReadOnly: pulumi.Bool(true),
		})
		volumes = append(volumes, &corev1.VolumeArgs{
			Name: pulumi.String("ca-bundle"),
			ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
				Name: pulumi.String(a.CABundleConfigMap),
				Items: corev1.KeyToPathArray{&corev1.KeyToPathArgs{
					Key: pulumi.String(a.CABundleKey), Path: pulumi.String(a.CABundleKey),
				}},
			},
		})
	}
	return &corev1.PodSpecArgs{
		AutomountServiceAccountToken:  pulumi.Bool(false),
		EnableServiceLinks:            pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(GracePeriod(a.PreStopDelay, a.Settings.DrainWindow)),
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(65532),
			RunAsGroup:     pulumi.Int(65532),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{&corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String("kubernetes.io/hostname"),
			WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: stringMap(HubSelector())},
		}},
		Containers: corev1.ContainerArray{&corev1.ContainerArgs{
			Name:            pulumi.String("hub"),
			Image:           a.Image,
			ImagePullPolicy: pulumi.String("IfNotPresent"),
			Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
				Name: pulumi.String(HubPortName), ContainerPort: pulumi.Int(HubPort), Protocol: pulumi.String("TCP"),
			}},
			Env: env,
			StartupProbe: &corev1.ProbeArgs{
				HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String(HubPortName)},
				PeriodSeconds:    pulumi.Int(2),
				FailureThreshold: pulumi.Int(30),
			},
			ReadinessProbe: &corev1.ProbeArgs{
				HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String("/readyz"), Port: pulumi.String(HubPortName)},
				PeriodSeconds:    pulumi.Int(5),
				TimeoutSeconds:   pulumi.Int(2),
				FailureThreshold: pulumi.Int(2),
			},
			LivenessProbe: &corev1.ProbeArgs{
				HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String(HubPortName)},
				PeriodSeconds:    pulumi.Int(10),
				TimeoutSeconds:   pulumi.Int(2),
				FailureThreshold: pulumi.Int(3),
			},
			Lifecycle: &corev1.LifecycleArgs{
				// The image has no shell, so the delay is the kubelet's sleep action (Kubernetes >= 1.30).
				PreStop: &corev1.LifecycleHandlerArgs{
					Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(seconds(a.PreStopDelay))},
				},
			},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String(a.CPU), "memory": pulumi.String(a.Memory)},
				Limits:   pulumi.StringMap{"memory": pulumi.String(a.Memory)},
			},
			SecurityContext: restrictedContainer(),
			VolumeMounts:    mounts,
		}},
		Volumes: volumes,
	}
}
