package components

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultRedisImage is the official Redis image, pinned by digest.
const DefaultRedisImage = "docker.io/library/redis:7.4.2@sha256:fbdbaea47b9ae4ecc2082ecdb4e1cea81e32176ffb1dcf643d422ad07427e5d9"

// RedisArgs configures the in-cluster Redis. For an external managed Redis,
// skip this component and hand the URL to the Hub directly.
type RedisArgs struct {
	// Namespace is required.
	Namespace pulumi.StringInput
	// Password, when set, must be a secret output; Redis then requires it
	// (requirepass) and the hub's REDIS_URL carries it. Nil = auth off (dev):
	// the NetworkPolicy is then the only gate.
	Password pulumi.StringInput
	// Image defaults to DefaultRedisImage.
	Image string
	// StorageSize of the AOF volume. Default "1Gi".
	StorageSize string
	// StorageClass; empty = the cluster default.
	StorageClass string
	// CPU request. Default "100m". Memory is request and limit. Default "256Mi".
	CPU, Memory string
	// ClientSelector are the labels of the pods the NetworkPolicy admits.
	// Default HubSelector().
	ClientSelector map[string]string
}

// Redis is a single-replica StatefulSet with AOF persistence on a PVC, a
// ClusterIP Service, a governing headless Service, a Secret holding its config
// (and password) and a NetworkPolicy that admits only hub pods. There is no
// PodDisruptionBudget: on a single replica it would block node drains forever.
type Redis struct {
	pulumi.ResourceState

	// Host is the in-cluster DNS name of the Service.
	Host pulumi.StringOutput
	// Port is the Redis port.
	Port pulumi.IntOutput
	// URL is the REDIS_URL for the hub; secret when a password is set.
	URL pulumi.StringOutput
}

// NewRedis registers the component and its children.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	if err := requireArgs(args, "Redis"); err != nil {
		return nil, err
	}
	if args.Namespace == nil {
		return nil, fmt.Errorf("components: Redis: Namespace is required")
	}
	a := *args
	if a.Image == "" {
		a.Image = DefaultRedisImage
	}
	if a.StorageSize == "" {
		a.StorageSize = "1Gi"
	}
	if a.CPU == "" {
		a.CPU = "100m"
	}
	if a.Memory == "" {
		a.Memory = "256Mi"
	}
	if a.ClientSelector == nil {
		a.ClientSelector = HubSelector()
	}
	r := &Redis{}
	if err := ctx.RegisterComponentResource(componentType+"Redis", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	labels := objectLabels(RedisSelector())
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: a.Namespace, Labels: labels}
	}

	conf := pulumi.String(redisConf).ToStringOutput()
	data := pulumi.StringMap{}
	if a.Password != nil {
		pw := pulumi.ToSecret(a.Password).(pulumi.StringOutput)
		conf = pulumi.ToSecret(pulumi.Sprintf("%srequirepass %s\n", redisConf, pw)).(pulumi.StringOutput)
		data["password"] = pw
	}
	data["redis.conf"] = conf
	secret, err := corev1.NewSecret(ctx, RedisName, &corev1.SecretArgs{
		Metadata:   meta(RedisName),
		Type:       pulumi.String("Opaque"),
		StringData: data,
	}, parent)
	if err != nil {
		return nil, err
	}

	headless := RedisName + "-headless"
	if _, err := corev1.NewService(ctx, headless, &corev1.ServiceArgs{
		Metadata: meta(headless),
		Spec: &corev1.ServiceSpecArgs{
			ClusterIP: pulumi.String("None"),
			Selector:  stringMap(RedisSelector()),
			Ports:     corev1.ServicePortArray{redisServicePort()},
		},
	}, parent); err != nil {
		return nil, err
	}
	svc, err := corev1.NewService(ctx, RedisName, &corev1.ServiceArgs{
		Metadata: meta(RedisName),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: stringMap(RedisSelector()),
			Ports:    corev1.ServicePortArray{redisServicePort()},
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	if _, err := appsv1.NewStatefulSet(ctx, RedisName, &appsv1.StatefulSetArgs{
		Metadata: meta(RedisName),
		Spec: &appsv1.StatefulSetSpecArgs{
			ServiceName: pulumi.String(headless),
			Replicas:    pulumi.Int(1),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: stringMap(RedisSelector())},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec:     redisPodSpec(a, secret),
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{redisPVC(a)},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{secret})); err != nil {
		return nil, err
	}

	if _, err := networkingv1.NewNetworkPolicy(ctx, RedisName, &networkingv1.NetworkPolicyArgs{
		Metadata: meta(RedisName),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: stringMap(RedisSelector())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{
					PodSelector: &metav1.LabelSelectorArgs{MatchLabels: stringMap(a.ClientSelector)},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{
					Protocol: pulumi.String("TCP"),
					Port:     pulumi.Int(RedisPort),
				}},
			}},
		},
	}, parent); err != nil {
		return nil, err
	}

	r.Host = pulumi.Sprintf("%s.%s.svc.cluster.local", svc.Metadata.Name().Elem(), a.Namespace)
	r.Port = pulumi.Int(RedisPort).ToIntOutput()
	if a.Password != nil {
		r.URL = pulumi.ToSecret(pulumi.Sprintf("redis://:%s@%s:%d/0", urlEscape(a.Password), r.Host, RedisPort)).(pulumi.StringOutput)
	} else {
		r.URL = pulumi.Sprintf("redis://%s:%d/0", r.Host, RedisPort)
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"host": r.Host, "port": r.Port, "url": r.URL}); err != nil {
		return nil, err
	}
	return r, nil
}

// redisConf is the config every kit Redis runs with: AOF on the PVC, reachable
// from the pod network (the NetworkPolicy is the perimeter).
const redisConf = `bind 0.0.0.0 -::*
protected-mode no
port 6379
dir /data
appendonly yes
appendfsync everysec
save ""
`

func redisServicePort() *corev1.ServicePortArgs {
	return &corev1.ServicePortArgs{
		Name:       pulumi.String("redis"),
		Port:       pulumi.Int(RedisPort),
		TargetPort: pulumi.String("redis"),
		Protocol:   pulumi.String("TCP"),
	}
}

func redisPodSpec(a RedisArgs, secret *corev1.Secret) *corev1.PodSpecArgs {
	var env corev1.EnvVarArray
	if a.Password != nil {
		// redis-cli reads REDISCLI_AUTH, so the probe never has the password on its command line.
		env = corev1.EnvVarArray{&corev1.EnvVarArgs{
			Name: pulumi.String("REDISCLI_AUTH"),
			ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
				Name: secret.Metadata.Name().Elem(), Key: pulumi.String("password"),
			}},
		}}
	}
	return &corev1.PodSpecArgs{
		AutomountServiceAccountToken:  pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(30),
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(999),
			RunAsGroup:     pulumi.Int(999),
			FsGroup:        pulumi.Int(999),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{&corev1.ContainerArgs{
			Name:    pulumi.String("redis"),
			Image:   pulumi.String(a.Image),
			Command: pulumi.StringArray{pulumi.String("redis-server"), pulumi.String("/etc/redis/redis.conf")},
			Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
				Name: pulumi.String("redis"), ContainerPort: pulumi.Int(RedisPort), Protocol: pulumi.String("TCP"),
			}},
			Env: env,
			ReadinessProbe: &corev1.ProbeArgs{
				Exec: &corev1.ExecActionArgs{Command: pulumi.StringArray{
					pulumi.String("sh"), pulumi.String("-c"), pulumi.String("redis-cli ping | grep -q PONG"),
				}},
				PeriodSeconds: pulumi.Int(5), TimeoutSeconds: pulumi.Int(3), FailureThreshold: pulumi.Int(3),
			},
			LivenessProbe: &corev1.ProbeArgs{
				TcpSocket:           &corev1.TCPSocketActionArgs{Port: pulumi.String("redis")},
				InitialDelaySeconds: pulumi.Int(10), PeriodSeconds: pulumi.Int(10),
				TimeoutSeconds: pulumi.Int(3), FailureThreshold: pulumi.Int(6),
			},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String(a.CPU), "memory": pulumi.String(a.Memory)},
				Limits:   pulumi.StringMap{"memory": pulumi.String(a.Memory)},
			},
			SecurityContext: restrictedContainer(),
			VolumeMounts: corev1.VolumeMountArray{
				&corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
				&corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String("/etc/redis"), ReadOnly: pulumi.Bool(true)},
			},
		}},
		Volumes: corev1.VolumeArray{&corev1.VolumeArgs{
			Name: pulumi.String("config"),
			Secret: &corev1.SecretVolumeSourceArgs{
				SecretName: secret.Metadata.Name().Elem(),
				Items: corev1.KeyToPathArray{&corev1.KeyToPathArgs{
					Key: pulumi.String("redis.conf"), Path: pulumi.String("redis.conf"),
				}},
			},
		}},
	}
}

func redisPVC(a RedisArgs) *corev1.PersistentVolumeClaimTypeArgs {
	spec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
		Resources: &corev1.VolumeResourceRequirementsArgs{
			Requests: pulumi.StringMap{"storage": pulumi.String(a.StorageSize)},
		},
	}
	if a.StorageClass != "" {
		spec.StorageClassName = pulumi.String(a.StorageClass)
	}
	return &corev1.PersistentVolumeClaimTypeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data"), Labels: objectLabels(RedisSelector())},
		Spec:     spec,
	}
}

// restrictedContainer is the container securityContext of the "restricted"
// Pod Security Standard plus a read-only root filesystem.
func restrictedContainer() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Privileged:               pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		RunAsNonRoot:             pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

func urlEscape(pw pulumi.StringInput) pulumi.StringOutput {
	return pw.ToStringOutput().ApplyT(func(s string) string { return queryEscapeUserinfo(s) }).(pulumi.StringOutput)
}
