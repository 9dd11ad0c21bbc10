package components

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hubkit/hubkit/infra/imagebuild"
)

// defaultBuilder builds with imagebuild and pushes with the user's Docker
// config and credential helpers.
type defaultBuilder struct{}

func (defaultBuilder) Build(ctx context.Context, cfg imagebuild.Config) (string, any, error) {
	res, err := imagebuild.Build(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	return res.Digest.String(), res.Image, nil
}

func (defaultBuilder) Push(ctx context.Context, img any, repo string) (string, error) {
	i, ok := img.(v1.Image)
	if !ok {
		return "", fmt.Errorf("components: Image: push: unexpected image handle %T", img)
	}
	return imagebuild.Push(ctx, i, repo, nil)
}

func hashOf(digest string) (v1.Hash, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("components: Image: digest %q: %w", digest, err)
	}
	return h, nil
}
