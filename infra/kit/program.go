package kit

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/hubkit/hubkit/infra/components"
	"github.com/hubkit/hubkit/infra/imagebuild"
)

// Options are the knobs of a program run that are not stack config.
type Options struct {
	// ModuleDir is the hubkit module root (holding go.mod) the image is built
	// from. Default: found by walking up from the working directory.
	ModuleDir string
	// Builder builds and pushes the image. Nil = imagebuild with the user's
	// Docker credentials.
	Builder components.ImageBuilder
}

// Program is the hubkit Pulumi program with default Options.
func Program(ctx *pulumi.Context) error { return New(Options{})(ctx) }

// New returns the program for opts.
func New(opts Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := Parse(ctxSource{ctx: ctx, cfg: config.New(ctx, "")})
		if err != nil {
			return err
		}
		return deploy(ctx, cfg, opts)
	}
}

// ctxSource reads the stack config of a running program.
type ctxSource struct {
	ctx *pulumi.Context
	cfg *config.Config
}

func (s ctxSource) Get(key string) (string, bool) {
	v, err := s.cfg.Try(key)
	return v, err == nil
}

func (s ctxSource) IsSecret(key string) bool {
	return s.ctx.IsConfigSecret(s.ctx.Project() + ":" + key)
}

func deploy(ctx *pulumi.Context, cfg Config, opts Options) error {
	ns, err := corev1.NewNamespace(ctx, cfg.Namespace, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(cfg.Namespace),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":    pulumi.String("hubkit"),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
			},
		},
	})
	if err != nil {
		return err
	}
	nsName := ns.Metadata.Name().Elem()

	imgArgs := &components.ImageArgs{
		Pinned:     cfg.Image,
		Repository: cfg.ImageRepository,
		Builder:    opts.Builder,
		Build: imagebuild.Config{
			Package:  cfg.HubPackage,
			Platform: cfg.ImagePlatform,
		},
	}
	if cfg.Image == "" {
		dir := opts.ModuleDir
		if dir == "" {
			if dir, err = findModuleRoot(); err != nil {
				return err
			}
		}
		imgArgs.Build.ModuleDir = dir
	}
	img, err := components.NewImage(ctx, "hub-image", imgArgs)
	if err != nil {
		return err
	}

	secrets := components.HubSecrets{}
	var redisEndpoint pulumi.StringOutput
	if cfg.InClusterRedis() {
		rargs := &components.RedisArgs{
			Namespace: nsName, Image: cfg.RedisImage,
			StorageSize: cfg.RedisStorageSize, StorageClass: cfg.RedisStorageClass,
			CPU: cfg.RedisCPU, Memory: cfg.RedisMemory,
		}
		if cfg.RedisPassword != "" {
			rargs.Password = pulumi.ToSecret(pulumi.String(cfg.RedisPassword)).(pulumi.StringOutput)
		}
		redis, err := components.NewRedis(ctx, "redis", rargs)
		if err != nil {
			return err
		}
		secrets.RedisURL = redis.URL
		redisEndpoint = pulumi.Sprintf("redis://%s:%d", redis.Host, redis.Port)
	} else {
		secrets.RedisURL = pulumi.ToSecret(pulumi.String(cfg.RedisURL)).(pulumi.StringOutput)
		redisEndpoint = pulumi.String(redactedURL(cfg.RedisURL)).ToStringOutput()
	}
	if cfg.APIKey != "" {
		secrets.APIKey = pulumi.ToSecret(pulumi.String(cfg.APIKey)).(pulumi.StringOutput)
	}
	if cfg.JWTSecret != "" {
		secrets.JWTSecret = pulumi.ToSecret(pulumi.String(cfg.JWTSecret)).(pulumi.StringOutput)
	}
	if cfg.JWTPublicKey != "" {
		secrets.JWTPublicKey = pulumi.ToSecret(pulumi.String(cfg.JWTPublicKey)).(pulumi.StringOutput)
	}

	tls := cfg.TLS.Mode != components.TLSNone
	hub, err := components.NewHub(ctx, "hub", &components.HubArgs{
		Namespace:    nsName,
		Image:        img.Ref,
		Replicas:     cfg.Replicas,
		PreStopDelay: cfg.PreStopDelay,
		Settings: components.HubSettings{
			Env:            cfg.Environment,
			RedisMode:      cfg.RedisMode,
			RecoveryWindow: cfg.RecoveryWindow,
			DrainWindow:    cfg.DrainWindow,
			PingInterval:   cfg.PingInterval,
			PingTimeout:    cfg.PingTimeout,
			MaxPayload:     cfg.MaxPayload,
			WriteQueue:     cfg.WriteQueue,
			ClientRate:     cfg.ClientRate,
			ClientBurst:    cfg.ClientBurst,
			LogLevel:       cfg.LogLevel,
			AllowedOrigins: cfg.AllowedOrigins,
		},
		Secrets:            secrets,
		ServiceAnnotations: components.ServiceAnnotations(cfg.Controller, cfg.AffinityCookie, tls),
		CPU:                cfg.HubCPU,
		Memory:             cfg.HubMemory,
		CABundleConfigMap:  cfg.CABundleConfigMap,
		CABundleKey:        cfg.CABundleKey,
	})
	if err != nil {
		return err
	}

	edge, err := components.NewEdge(ctx, "edge", &components.EdgeArgs{
		Namespace:        nsName,
		Host:             cfg.Host,
		ServiceName:      hub.ServiceName,
		Controller:       cfg.Controller,
		IngressClassName: cfg.IngressClassName,
		CookieName:       cfg.AffinityCookie,
		WebsocketTimeout: cfg.WebsocketTimeout,
		MaxBodyBytes:     cfg.MaxPayload + 64<<10,
		TLS:              cfg.TLS,
	})
	if err != nil {
		return err
	}

	ctx.Export("url", edge.URL)
	ctx.Export("image", img.Ref)
	ctx.Export("redisEndpoint", redisEndpoint)
	ctx.Export("replicas", hub.Replicas)
	ctx.Export("namespace", nsName)
	return nil
}

// redactedURL drops the userinfo (password) of a Redis URL.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	u.User = nil
	return u.String()
}

// findModuleRoot walks up from the working directory to the hubkit go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == "github.com/hubkit/hubkit" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kit: hubkit module root (go.mod of github.com/hubkit/hubkit) not found above the working directory; set image to deploy a prebuilt image")
		}
		dir = parent
	}
}

// modulePath returns the module path declared in a go.mod.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
