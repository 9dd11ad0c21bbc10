package controlplane_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hubkit/hubkit/tests/tools/controlplane"
	"go.uber.org/goleak"
)

// TestMain checks that a stopped control plane leaves no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestControlPlane starts one real control plane and runs the checks against
// it (one start keeps the suite fast).
func TestControlPlane(t *testing.T) {
	cp := controlplane.StartTB(t)
	t.Run("deployment becomes available", func(t *testing.T) { testDeploymentAvailable(t, cp) })
	t.Run("rejection carries the server's message", func(t *testing.T) { testRejection(t, cp) })
}

// testDeploymentAvailable creates a Deployment and a Service and waits until
// the Deployment is Available with every replica Running on the kwok node and
// the Service has ready endpoints.
func testDeploymentAvailable(t *testing.T, cp *controlplane.ControlPlane) {
	c := cp.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var version struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := c.Get(ctx, "/version", &version); err != nil {
		t.Fatal(err)
	}
	if version.GitVersion != controlplane.KubernetesVersion {
		t.Errorf("server version %q, want %q", version.GitVersion, controlplane.KubernetesVersion)
	}

	labels := map[string]any{"app": "web"}
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"},
		"spec": map[string]any{
			"replicas": 2,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "web", "image": "example.invalid/web:1",
					"ports": []any{map[string]any{"containerPort": 3000}},
				}}},
			},
		},
	}
	if err := c.Create(ctx, "/apis/apps/v1/namespaces/default/deployments", deploy); err != nil {
		t.Fatal(err)
	}
	svc := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "web"},
		"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"port": 80, "targetPort": 3000}}},
	}
	if err := c.Create(ctx, "/api/v1/namespaces/default/services", svc); err != nil {
		t.Fatal(err)
	}

	controlplane.WaitFor(ctx, t, "deployment web Available with 2 ready replicas", func() error {
		var d struct {
			Status struct {
				ReadyReplicas     int                      `json:"readyReplicas"`
				AvailableReplicas int                      `json:"availableReplicas"`
				Conditions        []controlplane.Condition `json:"conditions"`
			} `json:"status"`
		}
		if err := c.Get(ctx, "/apis/apps/v1/namespaces/default/deployments/web", &d); err != nil {
			return err
		}
		if !controlplane.HasCondition(d.Status.Conditions, "Available") || d.Status.AvailableReplicas != 2 {
			return fmt.Errorf("status %+v", d.Status)
		}
		t.Logf("deployment: %d ready, %d available, conditions %+v", d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.Conditions)
		return nil
	})

	var pods struct {
		Items []struct {
			Spec struct {
				NodeName string `json:"nodeName"`
			} `json:"spec"`
			Status struct {
				Phase string `json:"phase"`
				PodIP string `json:"podIP"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := c.Get(ctx, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", &pods); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("%d pods, want 2", len(pods.Items))
	}
	for _, p := range pods.Items {
		t.Logf("pod on %s: %s, ip %s", p.Spec.NodeName, p.Status.Phase, p.Status.PodIP)
		if p.Spec.NodeName != controlplane.NodeName || p.Status.Phase != "Running" || p.Status.PodIP == "" {
			t.Errorf("pod on %q phase %q ip %q, want Running with an IP on %s", p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, controlplane.NodeName)
		}
	}

	controlplane.WaitFor(ctx, t, "endpoint slice of service web with 2 ready endpoints", func() error {
		var slices struct {
			Items []struct {
				Endpoints []struct {
					Conditions struct {
						Ready bool `json:"ready"`
					} `json:"conditions"`
				} `json:"endpoints"`
			} `json:"items"`
		}
		if err := c.Get(ctx, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb", &slices); err != nil {
			return err
		}
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready {
					ready++
				}
			}
		}
		if ready != 2 {
			return fmt.Errorf("%d ready endpoints", ready)
		}
		return nil
	})
}

// testRejection shows that an invalid object fails with the API server's
// own message.
func testRejection(t *testing.T, cp *controlplane.ControlPlane) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bad := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "Not_A_DNS_Name"},
	}
	err := cp.Client().Create(ctx, "/api/v1/namespaces/default/configmaps", bad)
	if err == nil || !strings.Contains(err.Error(), "Invalid value") || !strings.Contains(err.Error(), "Not_A_DNS_Name") {
		t.Fatalf("create invalid ConfigMap: got %v, want the server's validation message", err)
	}
}
