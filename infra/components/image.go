package components

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hubkit/hubkit/infra/imagebuild"
)

// ImageBuilder builds and pushes the hub image. The default is
// imagebuild.Build / imagebuild.Push; tests substitute their own.
type ImageBuilder interface {
	// Build compiles the package and returns the image digest ("sha256:…")
	// plus a handle Push accepts.
	Build(ctx context.Context, cfg imagebuild.Config) (digest string, img any, err error)
	// Push uploads the built image to repo and returns "repo@sha256:…".
	Push(ctx context.Context, img any, repo string) (string, error)
}

// ImageArgs configures the Image component.
type ImageArgs struct {
	// Pinned is a prebuilt image reference ("repo@sha256:…"). When set nothing
	// is built or pushed. Takes precedence over Repository.
	Pinned string
	// Repository is where a built image is pushed, e.g. "localhost:5000/hubkit".
	Repository string
	// Build describes the build (module dir, package, platform).
	Build imagebuild.Config
	// Builder defaults to the go-containerregistry builder with the user's
	// Docker credentials.
	Builder ImageBuilder
}

// Image builds service/cmd/hub reproducibly and, during `up` only, pushes it.
// During a preview it computes the same digest without pushing, so the diff
// shows an image change exactly when the hub's code changed.
type Image struct {
	pulumi.ResourceState

	// Ref is "repo@sha256:…", the reference the Deployment uses.
	Ref pulumi.StringOutput
	// Digest is "sha256:…" ("" when pinned by tag, which validation refuses in production).
	Digest pulumi.StringOutput
}

// NewImage registers the component, builds (unless pinned) and pushes (on up).
func NewImage(ctx *pulumi.Context, name string, args *ImageArgs, opts ...pulumi.ResourceOption) (*Image, error) {
	if err := requireArgs(args, "Image"); err != nil {
		return nil, err
	}
	img := &Image{}
	if err := ctx.RegisterComponentResource(componentType+"Image", name, img, opts...); err != nil {
		return nil, err
	}
	ref, digest, err := resolveImage(ctx, args)
	if err != nil {
		return nil, err
	}
	img.Ref = pulumi.String(ref).ToStringOutput()
	img.Digest = pulumi.String(digest).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(img, pulumi.Map{"ref": img.Ref, "digest": img.Digest}); err != nil {
		return nil, err
	}
	return img, nil
}

func resolveImage(ctx *pulumi.Context, args *ImageArgs) (ref, digest string, err error) {
	if args.Pinned != "" {
		if d, perr := name.NewDigest(args.Pinned); perr == nil {
			return args.Pinned, d.DigestStr(), nil
		}
		if _, perr := name.ParseReference(args.Pinned); perr != nil {
			return "", "", fmt.Errorf("components: Image: pinned image %q: %w", args.Pinned, perr)
		}
		return args.Pinned, "", nil
	}
	if args.Repository == "" {
		return "", "", errors.New("components: Image: Repository is required when no image is pinned")
	}
	b := args.Builder
	if b == nil {
		b = defaultBuilder{}
	}
	bctx := ctx.Context()
	d, handle, err := b.Build(bctx, args.Build)
	if err != nil {
		return "", "", err
	}
	h, err := hashOf(d)
	if err != nil {
		return "", "", err
	}
	ref, err = imagebuild.Reference(args.Repository, h)
	if err != nil {
		return "", "", err
	}
	if ctx.DryRun() {
		_ = ctx.Log.Info(fmt.Sprintf("image %s built (preview: not pushed)", ref), nil)
		return ref, d, nil
	}
	pushed, err := b.Push(bctx, handle, args.Repository)
	if err != nil {
		return "", "", err
	}
	if pushed != ref {
		return "", "", fmt.Errorf("components: Image: pushed %s, expected %s", pushed, ref)
	}
	_ = ctx.Log.Info(fmt.Sprintf("image %s pushed", ref), nil)
	return ref, d, nil
}
