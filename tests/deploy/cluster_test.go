package deploy_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/hubkit/hubkit/tests/tools/controlplane"
)

// startRegistry serves an in-process OCI registry on a free loopback port and
// returns its host:port. It stops when the test ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("registry: %v", err)
		}
	})
	return l.Addr().String()
}

// manifestExists asks the registry whether repo has a manifest with digest.
func manifestExists(ctx context.Context, hostPort, repo, digest string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+hostPort+"/v2/"+repo+"/manifests/"+digest, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// certManagerCRDs are the cert-manager kinds the kit creates (Issuer,
// ClusterIssuer, Certificate), with open schemas: the test cluster has no
// cert-manager controller, only its API types, so the API server accepts the
// kit's objects as a real cluster with cert-manager installed would.
func certManagerCRDs() []map[string]any {
	crd := func(kind, plural, scope string) map[string]any {
		return map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + ".cert-manager.io"},
			"spec": map[string]any{
				"group": "cert-manager.io",
				"scope": scope,
				"names": map[string]any{
					"kind": kind, "plural": plural, "singular": lower(kind), "listKind": kind + "List",
				},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"spec":   map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
							"status": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
						},
					}},
					"subresources": map[string]any{"status": map[string]any{}},
				}},
			},
		}
	}
	return []map[string]any{
		crd("Issuer", "issuers", "Namespaced"),
		crd("ClusterIssuer", "clusterissuers", "Cluster"),
		crd("Certificate", "certificates", "Namespaced"),
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// installCRDs creates the CRDs and waits until each is Established.
func installCRDs(ctx context.Context, t *testing.T, c *controlplane.Client, crds []map[string]any) {
	t.Helper()
	for _, crd := range crds {
		if err := c.Create(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd); err != nil {
			t.Fatal(err)
		}
	}
	for _, crd := range crds {
		name := crd["metadata"].(map[string]any)["name"].(string)
		controlplane.WaitFor(ctx, t, "CRD "+name+" Established", func() error {
			var got struct {
				Status struct {
					Conditions []controlplane.Condition `json:"conditions"`
				} `json:"status"`
			}
			if err := c.Get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &got); err != nil {
				return err
			}
			if !controlplane.HasCondition(got.Status.Conditions, "Established") {
				return errors.New("not established")
			}
			return nil
		})
	}
}
