// Package backends opens a registry.Backend for the registry an operator
// configured, choosing among the built-in drivers: GHCR, ECR, ECR Public,
// Gitea, GitLab and any OCI distribution registry.
//
//	b, err := backends.FromEnv() // MOLECULE_IMAGE_REGISTRY, default ghcr.io/molecule-ai
//
// Construction does no I/O. Selection follows engine.Open:
// MOLECULE_IMAGE_REGISTRY_FLAVOR (or registry.WithFlavor) forces a driver;
// otherwise ghcr.io, ECR hosts, ECR Public, registry.gitlab.com and Docker
// Hub are recognised by name; any other host is probed once with GET /v2/ on
// the backend's first request — Gitea's challenge selects the Gitea driver,
// GitLab's the GitLab driver, anything else the distribution driver, which
// reuses the probe's answer.
package backends

import (
	"github.com/molecule-ai/registrykit/authn/dockerconfig"
	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/backends/gitlab"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Drivers returns the built-in drivers in selection order. The slice is new
// on every call; a caller may append its own drivers and pass the result to
// engine.Open.
func Drivers() []engine.Spec {
	return []engine.Spec{
		ghcr.Driver(),
		ecr.Driver(),
		ecrpublic.Driver(),
		gitea.Driver(),
		gitlab.Driver(),
		distribution.Driver(),
	}
}

// Open parses prefix ("host[:port][/path]", empty for the default) and
// returns a backend for it, chosen among the built-in drivers. Like
// sql.Open it takes no context and does no I/O: it fails only on a
// configuration error, and the backend is usable at once. A registry that
// must be probed to be told apart is probed on the backend's first request
// (again on the next one if that probe fails), and the AWS configuration is
// loaded on the first token request.
//
// The environment (the process's unless registry.WithEnv says otherwise)
// supplies the flavor override MOLECULE_IMAGE_REGISTRY_FLAVOR, the
// credential variables, Docker's config location and the AWS configuration.
// Docker's config is read with package authn/dockerconfig
// (registry.WithDockerConfig(dockerconfig.From)) unless
// registry.WithoutDockerConfig is given.
// Explicit options win over the environment.
func Open(prefix string, opts ...registry.Option) (registry.Backend, error) {
	p, err := registry.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	return open(p, opts)
}

// FromEnv returns the backend MOLECULE_IMAGE_REGISTRY names (default
// ghcr.io/molecule-ai), as [Open] does for that prefix. It takes no
// context and does no I/O, so it can run where a program builds its
// services; b.Prefix() is the prefix image names should use (the same parse
// as registry.PrefixFromEnv).
//
// It is engine.FromEnv(Drivers(), opts...) with Docker's config: a program that needs fewer
// flavors calls engine.FromEnv with its own list and links only those
// drivers (no AWS SDK without ECR and ECR Public).
func FromEnv(opts ...registry.Option) (registry.Backend, error) {
	return engine.FromEnv(Drivers(), withDefaults(opts)...)
}

// open opens p with the built-in drivers, honouring the flavor variable
// unless a flavor option is given.
func open(p registry.Prefix, opts []registry.Option) (registry.Backend, error) {
	opts = withDefaults(opts)
	if o := registry.NewOptions(opts...); o.Flavor == registry.FlavorUnknown {
		f, err := registry.FlavorFromEnv(o.Environ)
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.WithFlavor(f))
	}
	return engine.Open(p, Drivers(), opts...)
}

// withDefaults puts the process environment and Docker's config loader
// first, so that the caller's options win.
func withDefaults(opts []registry.Option) []registry.Option {
	return append([]registry.Option{
		registry.WithEnv(registry.ProcessEnv()),
		registry.WithDockerConfig(dockerconfig.From),
	}, opts...)
}
