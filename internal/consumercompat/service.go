// Package consumercompat is a stand-in for the service registrykit is built
// for: a Go 1.25 program on github.com/docker/docker v28.2.2 (with
// go-connections v0.6.0) that pulls workspace images through the Docker
// Engine and watches their digests. It exists to prove, on every CI run,
// that such a program imports registrykit without changing its toolchain or
// its pins: this module's go.mod keeps them, and CI builds and tests it with
// the Go 1.25.0 toolchain after checking that "go mod tidy" leaves go.mod
// alone.
package consumercompat

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// Runtimes is the service's own list of runtimes, in its own order.
var Runtimes = []string{"langgraph", "claude-code", "my-new-runtime"}

// Service is what the service builds at start: a backend (no context, no
// I/O), its image names, and a Docker client.
type Service struct {
	Backend registry.Backend
	Docker  *client.Client
	Log     *slog.Logger
}

// New builds the service from its environment, as the service's main does.
func New(env registry.Env, docker *client.Client, log *slog.Logger) (*Service, error) {
	b, err := backends.FromEnv(&registry.Options{Env: env, Logger: log})
	if err != nil {
		return nil, err
	}
	return &Service{Backend: b, Docker: docker, Log: log}, nil
}

// Image is the image name of a runtime, computed at start from the same
// parse the backend uses.
func (s *Service) Image(runtime string) (string, error) {
	return registry.RuntimeImage(s.Backend, runtime)
}

// Pull pulls a runtime's image through the Engine with the backend's
// credential (no header at all for anonymous access).
func (s *Service) Pull(ctx context.Context, runtime string) error {
	ref, err := s.Image(runtime)
	if err != nil {
		return err
	}
	return s.PullImage(ctx, ref)
}

// PullImage pulls any image through the Engine: with the backend's
// credential when it lives on the backend's registry, anonymously when it
// lives elsewhere (RegistryAuth decides; the service keeps no host check of
// its own).
func (s *Service) PullImage(ctx context.Context, ref string) error {
	auth, err := dockerauth.RegistryAuth(ctx, s.Backend, ref)
	if err != nil {
		return err
	}
	rc, err := s.Docker.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// Watcher watches the service's runtimes and pulls an image whose digest
// moved, one pull at a time. The fields set in o (nil: none) are kept; its
// Runtimes, Logger and Handler default to the service's.
func (s *Service) Watcher(o *watch.Options) (*watch.Watcher, error) {
	var c watch.Options
	if o != nil {
		c = *o
	}
	if c.Runtimes == nil {
		c.Runtimes = Runtimes
	}
	if c.Logger == nil {
		c.Logger = s.Log
	}
	if c.Handler == nil {
		c.Handler = func(ctx context.Context, img watch.Image, _, _ string) error {
			return s.Pull(ctx, img.Runtime)
		}
	}
	return watch.New(s.Backend, &c)
}
