package components

import (
	"fmt"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Edge controllers.
const (
	ControllerNginx   = "nginx"   // ingress-nginx
	ControllerTraefik = "traefik" // Traefik's Kubernetes Ingress provider
)

// TLS modes.
const (
	TLSCertManager = "cert-manager" // an existing cert-manager (Cluster)Issuer
	TLSSelfSigned  = "self-signed"  // a self-signed cert-manager Issuer the kit creates (dev)
	TLSSecret      = "secret"       // an existing kubernetes.io/tls Secret
	TLSNone        = "none"         // plain HTTP (development only)
)

// SelfSignedIssuer is the name of the Issuer created in TLSSelfSigned mode.
const SelfSignedIssuer = "hubkit-selfsigned"

// DefaultTLSSecret receives the certificate cert-manager issues.
const DefaultTLSSecret = "hubkit-tls"

// EdgeTLS selects where the certificate comes from.
type EdgeTLS struct {
	Mode string
	// Issuer and IssuerKind ("ClusterIssuer" default, or "Issuer") for TLSCertManager.
	Issuer, IssuerKind string
	// SecretName for TLSSecret; for cert-manager modes, where the certificate
	// is stored (default DefaultTLSSecret).
	SecretName string
}

// EdgeArgs configures the Edge component.
type EdgeArgs struct {
	// Namespace, Host, ServiceName are required.
	Namespace   pulumi.StringInput
	Host        string
	ServiceName pulumi.StringInput
	// ServicePort defaults to HubSvcPort.
	ServicePort int
	// Controller is ControllerNginx (default) or ControllerTraefik.
	Controller string
	// IngressClassName defaults to "nginx" or "traefik" after the controller.
	IngressClassName string
	// CookieName of the affinity cookie. Default "hubkit-affinity".
	CookieName string
	// WebsocketTimeout is the proxy read/send timeout (nginx). Default 1h.
	WebsocketTimeout time.Duration
	// MaxBodyBytes caps request bodies at the edge (nginx). Default 1000000
	// plus 64 KiB of framing slack, so the hub itself answers oversize with 413.
	MaxBodyBytes int
	TLS          EdgeTLS
}

// Edge is the Ingress (and, in self-signed mode, its cert-manager Issuer).
type Edge struct {
	pulumi.ResourceState

	// URL is "https://host" (or "http://host" with TLSNone).
	URL pulumi.StringOutput
}

// ServiceAnnotations returns the annotations the hub Service needs for
// cookie affinity under controller: Traefik keeps its sticky cookie on the
// Service; ingress-nginx needs none (its affinity is on the Ingress).
func ServiceAnnotations(controller, cookie string, secure bool) map[string]string {
	if controller != ControllerTraefik {
		return nil
	}
	if cookie == "" {
		cookie = "hubkit-affinity"
	}
	return map[string]string{
		"traefik.ingress.kubernetes.io/service.sticky.cookie":          "true",
		"traefik.ingress.kubernetes.io/service.sticky.cookie.name":     cookie,
		"traefik.ingress.kubernetes.io/service.sticky.cookie.secure":   strconv.FormatBool(secure),
		"traefik.ingress.kubernetes.io/service.sticky.cookie.httponly": "true",
		"traefik.ingress.kubernetes.io/service.sticky.cookie.samesite": "lax",
	}
}

// IngressAnnotations returns the Ingress annotations for a controller and TLS
// mode: cookie affinity and websocket-friendly timeouts for nginx, entry
// point and TLS for Traefik, and the cert-manager issuer annotation.
func IngressAnnotations(a EdgeArgs) map[string]string {
	a = a.withDefaults()
	ann := map[string]string{}
	tls := a.TLS.Mode != TLSNone
	switch a.Controller {
	case ControllerTraefik:
		if tls {
			ann["traefik.ingress.kubernetes.io/router.entrypoints"] = "websecure"
			ann["traefik.ingress.kubernetes.io/router.tls"] = "true"
		} else {
			ann["traefik.ingress.kubernetes.io/router.entrypoints"] = "web"
		}
	default:
		timeout := strconv.Itoa(seconds(a.WebsocketTimeout))
		ann["nginx.ingress.kubernetes.io/affinity"] = "cookie"
		ann["nginx.ingress.kubernetes.io/affinity-mode"] = "persistent"
		ann["nginx.ingress.kubernetes.io/session-cookie-name"] = a.CookieName
		ann["nginx.ingress.kubernetes.io/session-cookie-path"] = "/"
		ann["nginx.ingress.kubernetes.io/session-cookie-samesite"] = "Lax"
		ann["nginx.ingress.kubernetes.io/session-cookie-max-age"] = "172800"
		ann["nginx.ingress.kubernetes.io/session-cookie-secure"] = strconv.FormatBool(tls)
		ann["nginx.ingress.kubernetes.io/proxy-read-timeout"] = timeout
		ann["nginx.ingress.kubernetes.io/proxy-send-timeout"] = timeout
		ann["nginx.ingress.kubernetes.io/proxy-body-size"] = strconv.Itoa(a.MaxBodyBytes)
		ann["nginx.ingress.kubernetes.io/proxy-buffering"] = "off"
		ann["nginx.ingress.kubernetes.io/ssl-redirect"] = strconv.FormatBool(tls)
	}
	switch a.TLS.Mode {
	case TLSCertManager:
		if a.TLS.IssuerKind == "Issuer" {
			ann["cert-manager.io/issuer"] = a.TLS.Issuer
		} else {
			ann["cert-manager.io/cluster-issuer"] = a.TLS.Issuer
		}
	case TLSSelfSigned:
		ann["cert-manager.io/issuer"] = SelfSignedIssuer
	}
	return ann
}

func (a EdgeArgs) withDefaults() EdgeArgs {
	if a.Controller == "" {
		a.Controller = ControllerNginx
	}
	if a.IngressClassName == "" {
		a.IngressClassName = a.Controller
	}
	if a.CookieName == "" {
		a.CookieName = "hubkit-affinity"
	}
	if a.WebsocketTimeout == 0 {
		a.WebsocketTimeout = time.Hour
	}
	if a.MaxBodyBytes == 0 {
		a.MaxBodyBytes = 1000000 + 64<<10
	}
	if a.ServicePort == 0 {
		a.ServicePort = HubSvcPort
	}
	if a.TLS.Mode == "" {
		a.TLS.Mode = TLSCertManager
	}
	if a.TLS.SecretName == "" && a.TLS.Mode != TLSSecret {
		a.TLS.SecretName = DefaultTLSSecret
	}
	return a
}

// NewEdge registers the component and its children.
func NewEdge(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) (*Edge, error) {
	if err := requireArgs(args, "Edge"); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if a.Namespace == nil || a.ServiceName == nil || a.Host == "" {
		return nil, fmt.Errorf("components: Edge: Namespace, Host and ServiceName are required")
	}
	switch a.Controller {
	case ControllerNginx, ControllerTraefik:
	default:
		return nil, fmt.Errorf("components: Edge: unknown controller %q", a.Controller)
	}
	switch a.TLS.Mode {
	case TLSCertManager:
		if a.TLS.Issuer == "" {
			return nil, fmt.Errorf("components: Edge: TLS mode %s needs an issuer", a.TLS.Mode)
		}
	case TLSSecret:
		if a.TLS.SecretName == "" {
			return nil, fmt.Errorf("components: Edge: TLS mode %s needs a secret name", a.TLS.Mode)
		}
	case TLSSelfSigned, TLSNone:
	default:
		return nil, fmt.Errorf("components: Edge: unknown TLS mode %q", a.TLS.Mode)
	}
	e := &Edge{}
	if err := ctx.RegisterComponentResource(componentType+"Edge", name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	labels := objectLabels(map[string]string{"app.kubernetes.io/name": "hubkit", "app.kubernetes.io/component": "edge"})

	var deps []pulumi.Resource
	if a.TLS.Mode == TLSSelfSigned {
		iss, err := apiextensions.NewCustomResource(ctx, SelfSignedIssuer, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("cert-manager.io/v1"),
			Kind:       pulumi.String("Issuer"),
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(SelfSignedIssuer), Namespace: a.Namespace, Labels: labels,
			},
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"selfSigned": map[string]any{}}},
		}, append([]pulumi.ResourceOption{parent}, kubernetesVersion()...)...)
		if err != nil {
			return nil, err
		}
		deps = append(deps, iss)
	}

	backend := &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
		Name: a.ServiceName,
		Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(a.ServicePort)},
	}}
	paths := networkingv1.HTTPIngressPathArray{}
	// Only the Socket.IO endpoint and the publish API face the internet;
	// /metrics, /healthz and /readyz stay inside the cluster.
	for _, p := range []string{"/socket.io/", "/api/v1/publish"} {
		paths = append(paths, &networkingv1.HTTPIngressPathArgs{
			Path: pulumi.String(p), PathType: pulumi.String("Prefix"), Backend: backend,
		})
	}
	spec := &networkingv1.IngressSpecArgs{
		IngressClassName: pulumi.String(a.IngressClassName),
		Rules: networkingv1.IngressRuleArray{&networkingv1.IngressRuleArgs{
			Host: pulumi.String(a.Host),
			Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: paths},
		}},
	}
	scheme := "http"
	if a.TLS.Mode != TLSNone {
		scheme = "https"
		spec.Tls = networkingv1.IngressTLSArray{&networkingv1.IngressTLSArgs{
			Hosts:      pulumi.StringArray{pulumi.String(a.Host)},
			SecretName: pulumi.String(a.TLS.SecretName),
		}}
	}
	if _, err := networkingv1.NewIngress(ctx, EdgeName, &networkingv1.IngressArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(EdgeName), Namespace: a.Namespace, Labels: labels,
			Annotations: stringMap(IngressAnnotations(a)),
		},
		Spec: spec,
	}, parent, pulumi.DependsOn(deps)); err != nil {
		return nil, err
	}
	e.URL = pulumi.Sprintf("%s://%s", scheme, a.Host)
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{"url": e.URL}); err != nil {
		return nil, err
	}
	return e, nil
}
