package controlplane

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests need no binaries.

func TestMissing(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	bin := filepath.Join(full, "bin")
	if err := os.MkdirAll(filepath.Join(full, "kwok-stage"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(bin, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		bin  string
		want []string
	}{
		{"complete", bin, nil},
		{"empty", filepath.Join(t.TempDir(), "bin"), append(slices.Clone(binaries), "kwok-stage")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Missing(tc.bin); !slices.Equal(got, tc.want) {
				t.Errorf("Missing = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPKI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := newPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(p.caPEM) {
		t.Fatal("CA does not parse")
	}
	tests := []struct {
		name   string
		file   string
		opts   x509.VerifyOptions
		verify func(*testing.T, *x509.Certificate)
	}{
		{"serving cert valid for 127.0.0.1 and the service names", p.servingFile,
			x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
			func(t *testing.T, c *x509.Certificate) {
				for _, host := range []string{"127.0.0.1", serviceIP, "kubernetes.default.svc"} {
					if err := c.VerifyHostname(host); err != nil {
						t.Error(err)
					}
				}
			}},
		{"admin cert is a cluster admin client", p.adminFile,
			x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
			func(t *testing.T, c *x509.Certificate) {
				if !slices.Contains(c.Subject.Organization, "system:masters") {
					t.Errorf("admin organizations %v, want system:masters", c.Subject.Organization)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(b)
			if block == nil {
				t.Fatal("no PEM block")
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Verify(tc.opts); err != nil {
				t.Fatal(err)
			}
			tc.verify(t, c)
		})
	}
	if _, err := p.tlsConfig(); err != nil {
		t.Errorf("tlsConfig: %v", err)
	}
	for _, f := range []string{p.saKeyFile, p.saPubFile, p.caKeyFile, p.servingKeyFile, p.adminKeyFile} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}
}

func TestKwokConfig(t *testing.T) {
	t.Parallel()
	stages := t.TempDir()
	files := map[string]string{
		"node.yaml":          "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata:\n  name: node-initialize\n",
		"storage-class.yaml": "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: kwok-volume\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(stages, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &ControlPlane{dir: t.TempDir()}
	path, err := c.writeKwokConfig(stages)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"name: node-initialize", "name: ingress-load-balancer", "kind: Ingress"} {
		if !strings.Contains(got, want) {
			t.Errorf("kwok config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "StorageClass") {
		t.Errorf("kwok config holds a non-Stage document:\n%s", got)
	}
	if _, err := c.writeKwokConfig(t.TempDir()); err == nil {
		t.Error("writeKwokConfig of an empty directory succeeded")
	}
}
