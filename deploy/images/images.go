// Package images builds the container images of the containerized reference runtime. Every image
// is FROM scratch around one of our own static binaries (CGO_ENABLED=0, -trimpath), because the
// machines that run the chaos suites may reach no container registry: building pulls nothing.
// Build is cheap when nothing changed: Go's build cache skips the compile, and an image whose
// label already carries the SHA-256 of its Dockerfile and binary is left as it is.
package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// The images a deployment runs, tagged locally; nothing pushes them anywhere.
const (
	// Aruntime is cmd/aruntime: every role of the reference runtime, chosen by its arguments.
	Aruntime = "arcert/aruntime:dev"
	// Toxiproxy is toxiproxy's own server at the version go.mod pins.
	Toxiproxy = "arcert/toxiproxy:2.12.0"
	// NATS is the real nats-server at the version go.mod pins (cmd/natsd), for the reference
	// deployment's three-node JetStream cluster (deploy/compose).
	NATS = "arcert/nats:2.15.2"
)

// contentLabel is the image label holding the SHA-256 of its Dockerfile and binary, so an image
// that already holds today's binary, built today's way, is not rebuilt.
const contentLabel = "dev.arcert.content.sha256"

// modulePath identifies the arcert source tree when looking for it upwards from a directory.
const modulePath = "module github.com/aruntime/arcert\n"

//go:embed aruntime.Dockerfile toxiproxy.Dockerfile nats.Dockerfile
var dockerfiles embed.FS

// image is one image: the Go package its binary is built from and its Dockerfile.
type image struct {
	tag, pkg, binary, dockerfile string
}

var all = []image{
	{tag: Aruntime, pkg: "./cmd/aruntime", binary: "aruntime", dockerfile: "aruntime.Dockerfile"},
	{tag: Toxiproxy, pkg: "github.com/Shopify/toxiproxy/v2/cmd/server", binary: "toxiproxy", dockerfile: "toxiproxy.Dockerfile"},
	{tag: NATS, pkg: "./cmd/natsd", binary: "natsd", dockerfile: "nats.Dockerfile"},
}

// Options say where the source is and where progress goes.
type Options struct {
	// Root is the arcert module's directory; empty looks upwards from the working directory.
	Root string
	// Log receives one line per image; nil discards them.
	Log io.Writer
}

// Sentinel errors of Build.
var (
	// ErrNoSource means the images are missing and there is no arcert source tree to build them
	// from (a harness binary run outside a checkout).
	ErrNoSource = errors.New("images: no arcert source tree to build the images from")
	// ErrBuild marks a failed docker build; the message carries the builder's own error.
	ErrBuild = errors.New("images: docker build failed")
	// ErrNoDocker means no Docker engine answers, so there is nowhere to build the images.
	ErrNoDocker = errors.New("images: no Docker engine")
)

// Build makes sure every image exists and holds the binary today's source builds. Outside a
// source tree it accepts images that exist, whatever they hold, and fails only for missing ones.
func Build(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	defer func() { _ = docker.Close() }()
	root := o.Root
	if root == "" {
		root, err = findRoot()
		if err != nil {
			return missingOnly(ctx, docker, o.Log)
		}
	}
	stage := filepath.Join(root, "bin", "images")
	for _, im := range all {
		if err := buildOne(ctx, docker, root, stage, im, o.Log); err != nil {
			return err
		}
	}
	return nil
}

// buildOne builds im's binary and, when the image does not hold that binary yet, the image.
func buildOne(ctx context.Context, docker *testcontainers.DockerClient, root, stage string, im image, log io.Writer) error {
	start := time.Now()
	bin := filepath.Join(stage, im.binary)
	fmt.Fprintf(log, "images: compiling %s for %s\n", im.pkg, im.tag)
	// #nosec G204 -- the go tool with this package's constant arguments and a path under root.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, im.pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("images: go build %s: %w\n%s", im.pkg, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	dockerfile, err := dockerfiles.ReadFile(im.dockerfile)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	h := sha256.New()
	h.Write(dockerfile)
	h.Write(data)
	digest := hex.EncodeToString(h.Sum(nil))
	if current, err := labelOf(ctx, docker, im.tag); err == nil && current == digest {
		fmt.Fprintf(log, "images: %s up to date (%s)\n", im.tag, time.Since(start).Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(log, "images: building %s (its binary changed or the image is missing)\n", im.tag)
	buildCtx, err := contextTar(dockerfile, im.binary, data)
	if err != nil {
		return err
	}
	res, err := docker.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags: []string{im.tag}, Dockerfile: "Dockerfile", Remove: true, ForceRemove: true,
		Labels: map[string]string{contentLabel: digest},
	})
	if err != nil {
		return fmt.Errorf("images: building %s: %w", im.tag, err)
	}
	defer func() { _ = res.Body.Close() }()
	if err := readBuild(res.Body, log, im.tag); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBuild, im.tag, err)
	}
	fmt.Fprintf(log, "images: built %s (%s)\n", im.tag, time.Since(start).Round(time.Millisecond))
	return nil
}

// labelOf returns the content label of the image tagged tag.
func labelOf(ctx context.Context, docker *testcontainers.DockerClient, tag string) (string, error) {
	res, err := docker.ImageInspect(ctx, tag)
	if err != nil {
		return "", err
	}
	if res.Config == nil {
		return "", nil
	}
	return res.Config.Labels[contentLabel], nil
}

// missingOnly accepts the images that exist when there is no source to build them from.
func missingOnly(ctx context.Context, docker *testcontainers.DockerClient, log io.Writer) error {
	var missing []string
	for _, im := range all {
		if _, err := docker.ImageInspect(ctx, im.tag); err != nil {
			if !errdefs.IsNotFound(err) {
				return fmt.Errorf("images: inspecting %s: %w", im.tag, err)
			}
			missing = append(missing, im.tag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s missing; run `make images` in an arcert checkout", ErrNoSource, strings.Join(missing, ", "))
	}
	fmt.Fprintln(log, "images: no source tree here; using the images that exist")
	return nil
}

// findRoot looks upwards from the working directory for the arcert module's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte(modulePath)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoSource
		}
		dir = parent
	}
}
