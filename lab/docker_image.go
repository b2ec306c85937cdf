package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// ImageTag is the docker provider's node image tag: the image name from
// lab.yaml and a hash of everything that goes into the image, so a changed
// Dockerfile or package list makes a new image and an unchanged one is
// never rebuilt.
func ImageTag(root string, cfg *Config) (string, error) {
	dir := filepath.Join(root, "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("node image inputs: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "base=%s\n", cfg.Providers.Docker.BaseImage)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return cfg.Providers.Docker.Image + ":" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// BaseImageTag is the rootfs image images/build.sh imports before the
// Dockerfile: repo (HALAB_BASE_REPO, default halab/base) and a hash of
// build.sh alone, as build.sh itself computes it.
func BaseImageTag(root, repo string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "images", "build.sh"))
	if err != nil {
		return "", fmt.Errorf("node image inputs: %w", err)
	}
	sum := sha256.Sum256(b)
	return repo + ":" + hex.EncodeToString(sum[:])[:12], nil
}

// baseRepo is the repository of the rootfs base images/build.sh imports
// (HALAB_BASE_REPO, as build.sh reads it).
func baseRepo() string {
	if r := os.Getenv("HALAB_BASE_REPO"); r != "" {
		return r
	}
	return "halab/base"
}

// ImageExists asks the docker engine for a local image.
func ImageExists(ctx context.Context, tag string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", tag).Run() == nil
}

// BuildImage builds the node image with images/build.sh, streaming its
// step lines to out, then tags it :latest too so a bare `vagrant up` works.
func BuildImage(ctx context.Context, root string, cfg *Config, tag string, out io.Writer) error {
	env := []string{}
	if cfg.Providers.Docker.BaseImage != "" {
		env = append(env, "HALAB_BASE_IMAGE="+cfg.Providers.Docker.BaseImage)
	}
	if _, err := runLocal(ctx, root, env, out, filepath.Join(root, "images", "build.sh"), tag); err != nil {
		return fmt.Errorf("building node image %s: %w", tag, err)
	}
	latest := cfg.Providers.Docker.Image + ":latest"
	if _, err := runLocal(ctx, root, nil, nil, "docker", "tag", tag, latest); err != nil {
		return err
	}
	return nil
}
