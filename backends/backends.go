// Package backends opens a registry.Backend for the registry an operator
// configured, choosing among the built-in drivers: GHCR, ECR, ECR Public,
// Azure Container Registry, Gitea, GitLab, Google Artifact Registry and any
// OCI distribution registry.
//
//	b, err := backends.FromEnv(nil) // MOLECULE_IMAGE_REGISTRY, default ghcr.io/molecule-ai
//
// Construction does no I/O. Selection follows engine.Open:
// MOLECULE_IMAGE_REGISTRY_FLAVOR (or registry.Options.Flavor) forces a driver;
// otherwise ghcr.io, ECR hosts, ECR Public, ACR hosts, registry.gitlab.com,
// Artifact Registry's hosts (<location>-docker.pkg.dev, gcr.io) and Docker
// Hub are recognised by name; any other host is probed once with GET /v2/ on
// the backend's first request — Gitea's challenge selects the Gitea driver,
// GitLab's the GitLab driver, anything else the distribution driver, which
// reuses the probe's answer.
package backends

import (
	"slices"

	"github.com/molecule-ai/registrykit/authn/dockerconfig"
	"github.com/molecule-ai/registrykit/backends/acr"
	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/backends/gar"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/backends/gitlab"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Drivers returns the built-in drivers in selection order, with their
// defaults. The slice is new on every call; a caller may append its own
// drivers and pass the result to engine.Open.
func Drivers() []engine.Spec {
	return []engine.Spec{
		ghcr.Driver(nil),
		ecr.Driver(nil),
		ecrpublic.Driver(nil),
		acr.Driver(nil),
		gitea.Driver(nil),
		gitlab.Driver(),
		gar.Driver(nil),
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
// A nil o is the zero registry.Options. The environment (o.Env, the
// process's by default) supplies the flavor override
// MOLECULE_IMAGE_REGISTRY_FLAVOR, the credential variables, Docker's config
// location and the AWS configuration. Docker's config is read with package
// authn/dockerconfig unless o.DockerConfig names another loader or
// o.NoDockerConfig is set. Explicit options win over the environment.
//
// Each of drivers replaces the built-in driver of its flavor, or, for a
// flavor of its own, is tried before the fallback driver: pass
// ecr.Driver(&ecr.Config{...}) to configure the ECR driver.
func Open(prefix string, o *registry.Options, drivers ...engine.Spec) (registry.Backend, error) {
	p, err := registry.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	o = withDefaults(o)
	if o.Flavor == registry.FlavorUnknown {
		if o.Flavor, err = o.Env.Flavor(); err != nil {
			return nil, err
		}
	}
	return engine.Open(p, withDrivers(drivers), o)
}

// FromEnv returns the backend MOLECULE_IMAGE_REGISTRY names (default
// ghcr.io/molecule-ai), as [Open] does for that prefix. It takes no
// context and does no I/O, so it can run where a program builds its
// services; b.Prefix() is the prefix image names should use (the same parse
// as registry.Env's Prefix).
//
// It is engine.FromEnv(Drivers(), o) with Docker's config: a program that
// needs fewer flavors calls engine.FromEnv with its own list and links only
// those drivers (no AWS SDK without ECR and ECR Public, no Azure SDK
// without ACR).
func FromEnv(o *registry.Options, drivers ...engine.Spec) (registry.Backend, error) {
	return engine.FromEnv(withDrivers(drivers), withDefaults(o))
}

// withDefaults returns a copy of o with Docker's config loader set, unless
// o names another.
func withDefaults(o *registry.Options) *registry.Options {
	c := registry.Options{}
	if o != nil {
		c = *o
	}
	if c.DockerConfig == nil {
		c.DockerConfig = dockerconfig.From
	}
	return &c
}

// withDrivers returns the built-in drivers with each of extra in place of
// the built-in one of its flavor, or before the fallback driver.
func withDrivers(extra []engine.Spec) []engine.Spec {
	specs := Drivers()
	for _, e := range extra {
		if i := slices.IndexFunc(specs, func(s engine.Spec) bool { return s.Flavor == e.Flavor }); i >= 0 {
			specs[i] = e
			continue
		}
		at := slices.IndexFunc(specs, func(s engine.Spec) bool { return s.Fallback })
		if at < 0 {
			at = len(specs)
		}
		specs = slices.Insert(specs, at, e)
	}
	return specs
}
