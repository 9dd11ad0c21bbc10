package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/hubkit/hubkit/tests/tools/controlplane"
)

// The few fields of Kubernetes objects the test reads.

type list[T any] struct {
	Items []T `json:"items"`
}

type meta struct {
	Name            string `json:"name"`
	Namespace       string `json:"namespace"`
	ResourceVersion string `json:"resourceVersion"`
}

type object struct {
	Metadata meta `json:"metadata"`
}

type deployment struct {
	Metadata meta `json:"metadata"`
	Spec     struct {
		Replicas int `json:"replicas"`
		Template struct {
			Spec struct {
				Containers []struct {
					Name  string `json:"name"`
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		AvailableReplicas int                      `json:"availableReplicas"`
		Conditions        []controlplane.Condition `json:"conditions"`
	} `json:"status"`
}

type statefulSet struct {
	Metadata meta `json:"metadata"`
	Spec     struct {
		Replicas int `json:"replicas"`
	} `json:"spec"`
	Status struct {
		ReadyReplicas int `json:"readyReplicas"`
	} `json:"status"`
}

type ingress struct {
	Metadata meta `json:"metadata"`
	Status   struct {
		LoadBalancer struct {
			Ingress []struct {
				IP       string `json:"ip"`
				Hostname string `json:"hostname"`
			} `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

// getDeployment returns the one Deployment in ns (the hub).
func getDeployment(ctx context.Context, t *testing.T, c *controlplane.Client, ns string) deployment {
	t.Helper()
	var l list[deployment]
	if err := c.Get(ctx, "/apis/apps/v1/namespaces/"+ns+"/deployments", &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 {
		t.Fatalf("%d Deployments in %s, want 1", len(l.Items), ns)
	}
	d := l.Items[0]
	if len(d.Spec.Template.Spec.Containers) == 0 {
		t.Fatalf("deployment %s has no containers", d.Metadata.Name)
	}
	return d
}

// fingerprints maps "Kind/name" to the JSON of every object of the kinds the
// kit creates (and their consequences) in ns, without status and the fields
// the server bumps on status writes (resourceVersion, managedFields): two
// equal fingerprints mean nobody touched the object's spec, data, labels or
// annotations.
func fingerprints(ctx context.Context, t *testing.T, c *controlplane.Client, ns string) map[string]string {
	t.Helper()
	kinds := []struct{ kind, path string }{
		{"Deployment", "/apis/apps/v1/namespaces/%s/deployments"},
		{"ReplicaSet", "/apis/apps/v1/namespaces/%s/replicasets"},
		{"StatefulSet", "/apis/apps/v1/namespaces/%s/statefulsets"},
		{"Service", "/api/v1/namespaces/%s/services"},
		{"Secret", "/api/v1/namespaces/%s/secrets"},
		{"ConfigMap", "/api/v1/namespaces/%s/configmaps"},
		{"PersistentVolumeClaim", "/api/v1/namespaces/%s/persistentvolumeclaims"},
		{"PodDisruptionBudget", "/apis/policy/v1/namespaces/%s/poddisruptionbudgets"},
		{"NetworkPolicy", "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies"},
		{"Ingress", "/apis/networking.k8s.io/v1/namespaces/%s/ingresses"},
		{"Issuer", "/apis/cert-manager.io/v1/namespaces/%s/issuers"},
		{"Certificate", "/apis/cert-manager.io/v1/namespaces/%s/certificates"},
		{"Namespace", "/api/v1/namespaces?fieldSelector=metadata.name%%3D%s"},
	}
	out := map[string]string{}
	for _, k := range kinds {
		var l list[map[string]any]
		if err := c.Get(ctx, fmt.Sprintf(k.path, ns), &l); err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Items {
			delete(o, "status")
			md, _ := o["metadata"].(map[string]any)
			delete(md, "resourceVersion")
			delete(md, "managedFields")
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			out[k.kind+"/"+fmt.Sprint(md["name"])] = string(b)
		}
	}
	return out
}

func getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
