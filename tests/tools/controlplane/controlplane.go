package controlplane

import (
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Versions of the components, as built by tests/tools/build-k8s.sh.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
	KwokVersion       = "v0.8.0"

	// NodeName is the one fake node kwok manages.
	NodeName = "kwok-node-0"

	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

//go:embed stages/ingress-load-balancer.yaml
var ingressStage string

// Binaries the control plane runs, all in Config.BinDir.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// DefaultToolsDir is $HUBKIT_TOOLS, or $HOME/.cache/hubkit-tools.
func DefaultToolsDir() string {
	if d := os.Getenv("HUBKIT_TOOLS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "hubkit-tools")
	}
	return filepath.Join(home, ".cache", "hubkit-tools")
}

// DefaultBinDir is where build-k8s.sh puts the binaries.
func DefaultBinDir() string {
	return filepath.Join(DefaultToolsDir(), "k8s-"+KubernetesVersion, "bin")
}

// Missing lists the binaries (and the kwok stage directory) absent from
// binDir; empty means the control plane can start.
func Missing(binDir string) []string {
	var miss []string
	for _, b := range binaries {
		if st, err := os.Stat(filepath.Join(binDir, b)); err != nil || st.IsDir() {
			miss = append(miss, b)
		}
	}
	if _, err := os.Stat(stageDir(binDir)); err != nil {
		miss = append(miss, "kwok-stage")
	}
	return miss
}

func stageDir(binDir string) string { return filepath.Join(filepath.Dir(binDir), "kwok-stage") }

// Config configures Start.
type Config struct {
	// BinDir holds the binaries. Zero value: DefaultBinDir().
	BinDir string
	// Dir is the parent of the control plane's temporary directory
	// (certificates, kubeconfig, etcd data, component logs). Zero value:
	// os.TempDir(). The directory is removed by Stop unless KeepDir is set.
	Dir string
	// KeepDir keeps the temporary directory after Stop, for debugging.
	KeepDir bool
	// Logger receives progress messages. Nil discards them.
	Logger *slog.Logger
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	dir        string
	keepDir    bool
	kubeconfig string
	server     string
	log        *slog.Logger
	client     *Client
	pki        *pki

	procs []*process // start order: etcd, apiserver, controller-manager, scheduler, kwok

	stopOnce sync.Once
	stopErr  error
}

// Dir is the control plane's temporary directory; component logs are
// <component>.log in it.
func (c *ControlPlane) Dir() string { return c.dir }

// Kubeconfig is the path of a kubeconfig for a cluster admin.
func (c *ControlPlane) Kubeconfig() string { return c.kubeconfig }

// KubeconfigData is the kubeconfig's content (certificates embedded).
func (c *ControlPlane) KubeconfigData() (string, error) {
	b, err := os.ReadFile(c.kubeconfig)
	return string(b), err
}

// Server is the API server's URL, https://127.0.0.1:<port>.
func (c *ControlPlane) Server() string { return c.server }

// Client is an admin REST client for the API server.
func (c *ControlPlane) Client() *Client { return c.client }

// Start starts the control plane and waits until it is usable: etcd healthy,
// the API server ready, controller manager and scheduler healthy, the fake
// node Ready and the default service account created. ctx bounds the start;
// on any failure everything started so far is stopped.
func Start(ctx context.Context, cfg Config) (*ControlPlane, error) {
	if cfg.BinDir == "" {
		cfg.BinDir = DefaultBinDir()
	}
	if miss := Missing(cfg.BinDir); len(miss) > 0 {
		return nil, fmt.Errorf("controlplane: %s missing in %s; run tests/tools/build-k8s.sh", strings.Join(miss, ", "), cfg.BinDir)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := os.MkdirTemp(cfg.Dir, "hubkit-k8s-")
	if err != nil {
		return nil, err
	}
	c := &ControlPlane{dir: dir, keepDir: cfg.KeepDir, log: log}
	if err := c.start(ctx, cfg.BinDir); err != nil {
		stopErr := c.Stop(context.Background())
		return nil, errors.Join(err, stopErr)
	}
	return c, nil
}

func (c *ControlPlane) start(ctx context.Context, binDir string) error {
	began := time.Now()
	var err error
	if c.pki, err = newPKI(c.dir); err != nil {
		return err
	}
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	c.server = "https://127.0.0.1:" + itoa(apiPort)
	tlsCfg, err := c.pki.tlsConfig()
	if err != nil {
		return err
	}
	c.client = &Client{base: c.server, http: &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsCfg},
		Timeout:   30 * time.Second,
	}}
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, []byte(c.kubeconfigYAML()), 0o600); err != nil {
		return err
	}
	bin := func(name string) string { return filepath.Join(binDir, name) }
	p := c.pki

	// etcd
	etcdURL := "http://127.0.0.1:" + itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + itoa(etcdPeer)
	etcd, err := c.run("etcd", bin("etcd"), []string{
		"--name=default",
		"--data-dir=" + filepath.Join(c.dir, "etcd"),
		"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	})
	if err != nil {
		return err
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if err := pollUntil(ctx, 100*time.Millisecond, "etcd", []*process{etcd}, func(ctx context.Context) error {
		return httpOK(ctx, plain, etcdURL+"/health", `"health":"true"`)
	}); err != nil {
		return err
	}

	// kube-apiserver
	api, err := c.run("kube-apiserver", bin("kube-apiserver"), []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + itoa(apiPort),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + p.servingFile, "--tls-private-key-file=" + p.servingKeyFile,
		"--client-ca-file=" + p.caFile,
		// Published to kube-system/extension-apiserver-authentication, which
		// the controller manager and scheduler read for their own serving.
		"--requestheader-client-ca-file=" + p.caFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPubFile,
		"--service-account-signing-key-file=" + p.saKeyFile,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	})
	if err != nil {
		return err
	}
	if err := pollUntil(ctx, 200*time.Millisecond, "kube-apiserver /readyz", []*process{etcd, api}, func(ctx context.Context) error {
		var body []byte
		if err := c.client.Get(ctx, "/readyz", &body); err != nil {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	c.log.Info("kube-apiserver ready", "server", c.server, "after", time.Since(began).Round(time.Millisecond))

	// controller manager and scheduler
	serving := []string{
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + p.servingFile, "--tls-private-key-file=" + p.servingKeyFile,
		"--kubeconfig=" + c.kubeconfig,
		"--authentication-kubeconfig=" + c.kubeconfig,
		"--authorization-kubeconfig=" + c.kubeconfig,
		"--leader-elect=false",
	}
	kcm, err := c.run("kube-controller-manager", bin("kube-controller-manager"), append([]string{
		"--secure-port=" + itoa(kcmPort),
		"--service-account-private-key-file=" + p.saKeyFile,
		"--root-ca-file=" + p.caFile,
		"--cluster-signing-cert-file=" + p.caFile, "--cluster-signing-key-file=" + p.caKeyFile,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--use-service-account-credentials=false",
		"--controllers=*",
	}, serving...))
	if err != nil {
		return err
	}
	sched, err := c.run("kube-scheduler", bin("kube-scheduler"), append([]string{
		"--secure-port=" + itoa(schedPort),
	}, serving...))
	if err != nil {
		return err
	}
	secure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	for _, h := range []struct {
		name string
		port int
		proc *process
	}{{"kube-controller-manager", kcmPort, kcm}, {"kube-scheduler", schedPort, sched}} {
		if err := pollUntil(ctx, 200*time.Millisecond, h.name+" /healthz", []*process{api, h.proc}, func(ctx context.Context) error {
			return httpOK(ctx, secure, "https://127.0.0.1:"+itoa(h.port)+"/healthz", "ok")
		}); err != nil {
			return err
		}
	}

	// kwok and its node
	kwokConfig, err := c.writeKwokConfig(stageDir(binDir))
	if err != nil {
		return err
	}
	if err := c.client.Create(ctx, "/apis/storage.k8s.io/v1/storageclasses", kwokStorageClass); err != nil {
		return err
	}
	kwok, err := c.run("kwok", bin("kwok"), []string{
		"--kubeconfig=" + c.kubeconfig,
		"--config=" + kwokConfig,
		"--manage-all-nodes=true",
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16",
		"--node-ip=127.0.0.1",
	}, "HOME="+c.dir)
	if err != nil {
		return err
	}
	if err := c.client.Create(ctx, "/api/v1/nodes", fakeNode); err != nil {
		return err
	}
	all := []*process{etcd, api, kcm, sched, kwok}
	if err := pollUntil(ctx, 200*time.Millisecond, "node "+NodeName+" Ready", all, func(ctx context.Context) error {
		var n struct {
			Status struct {
				Conditions []Condition `json:"conditions"`
			} `json:"status"`
		}
		if err := c.client.Get(ctx, "/api/v1/nodes/"+NodeName, &n); err != nil {
			return err
		}
		if !HasCondition(n.Status.Conditions, "Ready") {
			return errNotYet
		}
		return nil
	}); err != nil {
		return err
	}
	if err := pollUntil(ctx, 200*time.Millisecond, "default service account", all, func(ctx context.Context) error {
		return c.client.Get(ctx, "/api/v1/namespaces/default/serviceaccounts/default", nil)
	}); err != nil {
		return err
	}
	c.log.Info("control plane ready", "after", time.Since(began).Round(time.Millisecond), "dir", c.dir)
	return nil
}

func (c *ControlPlane) run(name, bin string, args []string, env ...string) (*process, error) {
	p, err := startProcess(c.log, c.dir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// Stop stops the components in reverse start order (clients before the API
// server, the API server before etcd), each given a bounded grace period, and
// removes the temporary directory. It is idempotent; ctx bounds the total.
func (c *ControlPlane) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() {
		var errs []error
		for i := len(c.procs) - 1; i >= 0; i-- {
			p := c.procs[i]
			grace := 15 * time.Second
			if dl, ok := ctx.Deadline(); ok {
				if left := time.Until(dl); left < grace {
					grace = max(left, 100*time.Millisecond)
				}
			}
			took := p.stop(grace)
			c.log.Debug("stopped", "component", p.name, "took", took.Round(time.Millisecond))
		}
		if c.client != nil {
			c.client.http.CloseIdleConnections()
		}
		if !c.keepDir {
			if err := os.RemoveAll(c.dir); err != nil {
				errs = append(errs, err)
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// Logs returns the tail of every component's log, for test failure output.
func (c *ControlPlane) Logs(lines int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "==== %s (%s)\n%s\n", p.name, p.logFile, tail(p.logFile, lines))
	}
	return b.String()
}

func (c *ControlPlane) kubeconfigYAML() string {
	b64 := base64.StdEncoding.EncodeToString
	return `apiVersion: v1
kind: Config
clusters:
- name: hubkit-test
  cluster:
    server: ` + c.server + `
    certificate-authority-data: ` + b64(c.pki.caPEM) + `
users:
- name: hubkit-admin
  user:
    client-certificate-data: ` + b64(c.pki.adminPEM) + `
    client-key-data: ` + b64(c.pki.adminKeyPEM) + `
contexts:
- name: hubkit-test
  context:
    cluster: hubkit-test
    user: hubkit-admin
    namespace: default
current-context: hubkit-test
`
}

// writeKwokConfig concatenates kwok's own stages (Stage documents only) and
// this package's ingress stage into one multi-document config file.
func (c *ControlPlane) writeKwokConfig(stages string) (string, error) {
	files, err := filepath.Glob(filepath.Join(stages, "*.yaml"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	var docs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if !strings.Contains(string(b), "\nkind: Stage\n") {
			continue
		}
		docs = append(docs, string(b))
	}
	if len(docs) == 0 {
		return "", fmt.Errorf("controlplane: no kwok stages in %s", stages)
	}
	docs = append(docs, ingressStage)
	path := filepath.Join(c.dir, "kwok.yaml")
	return path, os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")), 0o600)
}

func httpOK(ctx context.Context, hc *http.Client, url, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// fakeNode is the node kwok manages; kwok fills in its status.
var fakeNode = map[string]any{
	"apiVersion": "v1",
	"kind":       "Node",
	"metadata": map[string]any{
		"name": NodeName,
		"annotations": map[string]any{
			"node.alpha.kubernetes.io/ttl": "0",
			"kwok.x-k8s.io/node":           "fake",
		},
		"labels": map[string]any{
			"kubernetes.io/hostname": NodeName,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
			"type":                   "kwok",
		},
	},
}

// kwokStorageClass is the default StorageClass of kwok's volume/fast stages
// (kustomize/stage/volume/fast/storage-class.yaml in its module): claims
// without a class get it and kwok provisions and binds a volume.
var kwokStorageClass = map[string]any{
	"apiVersion": "storage.k8s.io/v1",
	"kind":       "StorageClass",
	"metadata": map[string]any{
		"name": "kwok-volume",
		"annotations": map[string]any{
			"storageclass.kubernetes.io/is-default-class": "true",
		},
	},
	"provisioner":       "kwok.x-k8s.io/volume",
	"reclaimPolicy":     "Delete",
	"volumeBindingMode": "Immediate",
}
