package imagebuild

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Reference returns "repo@sha256:…" for an image digest. repo is validated
// as an image repository name (registry host optional).
func Reference(repo string, digest v1.Hash) (string, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return "", fmt.Errorf("%w: repository %q: %v", ErrConfig, repo, err)
	}
	return r.Digest(digest.String()).String(), nil
}

// Push uploads img to repo by digest and returns the pushed "repo@sha256:…".
// Credentials come from keychain; nil means the user's Docker config and
// credential helpers (authn.DefaultKeychain). Registries on localhost,
// 127.0.0.1 and *.local are spoken to over plain HTTP, as go-containerregistry
// does for local registries; everything else over HTTPS.
func Push(ctx context.Context, img v1.Image, repo string, keychain authn.Keychain) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("imagebuild: digest: %w", err)
	}
	ref, err := Reference(repo, d)
	if err != nil {
		return "", err
	}
	dig, err := name.NewDigest(ref)
	if err != nil {
		return "", fmt.Errorf("imagebuild: %w", err)
	}
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	if err := remote.Write(dig, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)); err != nil {
		return "", fmt.Errorf("imagebuild: push %s: %w", ref, err)
	}
	return ref, nil
}
