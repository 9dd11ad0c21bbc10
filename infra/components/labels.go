package components

import (
	"fmt"
	"net/url"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Names of the Kubernetes objects the kit creates. Fixed so that other
// objects (NetworkPolicy selectors, Ingress backends, Secret references) can
// refer to them without waiting on outputs, and so diffs stay readable.
const (
	HubName       = "hubkit-hub"
	RedisName     = "hubkit-redis"
	EdgeName      = "hubkit"
	HubPort       = 3000
	HubPortName   = "http"
	HubSvcPort    = 80
	RedisPort     = 6379
	managedByKit  = "pulumi"
	partOf        = "hubkit"
	componentType = "hubkit:index:"
)

// HubSelector returns the labels that select hub pods. The Redis
// NetworkPolicy admits exactly these.
func HubSelector() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "hubkit", "app.kubernetes.io/component": "hub"}
}

// RedisSelector returns the labels that select the Redis pod.
func RedisSelector() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "hubkit", "app.kubernetes.io/component": "redis"}
}

// objectLabels returns the selector labels plus the common recommended ones.
func objectLabels(selector map[string]string) pulumi.StringMap {
	m := pulumi.StringMap{
		"app.kubernetes.io/part-of":    pulumi.String(partOf),
		"app.kubernetes.io/managed-by": pulumi.String(managedByKit),
	}
	for k, v := range selector {
		m[k] = pulumi.String(v)
	}
	return m
}

func stringMap(m map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int {
	s := int(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// goDuration renders d the way the hub parses it (time.ParseDuration).
func goDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

func requireArgs[T any](args *T, component string) error {
	if args == nil {
		return fmt.Errorf("components: %s: args are required", component)
	}
	return nil
}

// queryEscapeUserinfo escapes a password for the userinfo part of a URL.
func queryEscapeUserinfo(s string) string {
	return url.UserPassword("", s).String()[1:]
}
