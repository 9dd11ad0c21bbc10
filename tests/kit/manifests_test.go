package kit

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// issuer mirrors the fields of cert-manager's v1 Issuer the kit sets; there
// is no cert-manager Go module in this repository, so this local type is
// what unknown fields are rejected against.
type issuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SelfSigned *struct{} `json:"selfSigned,omitempty"`
	} `json:"spec"`
}

// manifests are the typed objects rendered by the provider, by kind.
type manifests struct {
	Namespaces      []*corev1.Namespace
	Secrets         []*corev1.Secret
	Services        []*corev1.Service
	Deployments     []*appsv1.Deployment
	StatefulSets    []*appsv1.StatefulSet
	Ingresses       []*networkingv1.Ingress
	NetworkPolicies []*networkingv1.NetworkPolicy
	PDBs            []*policyv1.PodDisruptionBudget
	Issuers         []*issuer
	Count           int
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// loadManifests walks dir, splits every YAML file into documents and decodes
// each strictly (unknown fields are errors) into its typed API object.
func loadManifests(t *testing.T, dir string) manifests {
	t.Helper()
	var m manifests
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range docSep.Split(string(b), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			if err := m.add([]byte(doc)); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		o := &corev1.Namespace{}
		m.Namespaces, obj = append(m.Namespaces, o), o
	case "v1 Secret":
		o := &corev1.Secret{}
		m.Secrets, obj = append(m.Secrets, o), o
	case "v1 Service":
		o := &corev1.Service{}
		m.Services, obj = append(m.Services, o), o
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		m.Deployments, obj = append(m.Deployments, o), o
	case "apps/v1 StatefulSet":
		o := &appsv1.StatefulSet{}
		m.StatefulSets, obj = append(m.StatefulSets, o), o
	case "networking.k8s.io/v1 Ingress":
		o := &networkingv1.Ingress{}
		m.Ingresses, obj = append(m.Ingresses, o), o
	case "networking.k8s.io/v1 NetworkPolicy":
		o := &networkingv1.NetworkPolicy{}
		m.NetworkPolicies, obj = append(m.NetworkPolicies, o), o
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		m.PDBs, obj = append(m.PDBs, o), o
	case "cert-manager.io/v1 Issuer":
		o := &issuer{}
		m.Issuers, obj = append(m.Issuers, o), o
	default:
		return fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(bytes.TrimSpace(doc), obj); err != nil {
		return fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	m.Count++
	return nil
}
