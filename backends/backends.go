// Package backends opens a registry.Backend for the registry an operator
// configured, choosing among the built-in drivers: GHCR, ECR, ECR Public,
// Gitea and any OCI distribution registry.
//
//	b, err := backends.FromEnv(ctx) // MOLECULE_IMAGE_REGISTRY, default ghcr.io/molecule-ai
//
// Selection follows registry.Open: MOLECULE_IMAGE_REGISTRY_FLAVOR (or
// registry.WithFlavor) forces a driver; otherwise ghcr.io, ECR hosts, ECR
// Public and Docker Hub are recognised by name; any other host is probed once
// with GET /v2/ — a Gitea challenge selects the Gitea driver, anything else
// the distribution driver, which reuses the probe's answer.
package backends

import (
	"context"
	"net/http"
	"os"

	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/internal/tokenflow"
	"github.com/molecule-ai/registrykit/registry"
)

// Drivers returns the built-in drivers in selection order. The slice is new
// on every call; a caller may append its own drivers and pass the result to
// registry.Open.
func Drivers() []registry.Driver {
	return []registry.Driver{
		ghcr.Driver{},
		ecr.Driver{},
		ecrpublic.Driver{},
		gitea.Driver{},
		distribution.Driver{},
	}
}

// Open parses prefix ("host[:port][/path]", empty for the default) and opens
// a backend for it with the built-in drivers. Environment variables are read
// through os.LookupEnv unless registry.WithGetenv says otherwise.
func Open(ctx context.Context, prefix string, opts ...registry.Option) (registry.Backend, error) {
	p, err := registry.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	return registry.Open(ctx, p, Drivers(), withDefaults(opts)...)
}

// FromEnv opens the backend MOLECULE_IMAGE_REGISTRY names (default
// ghcr.io/molecule-ai), honouring MOLECULE_IMAGE_REGISTRY_FLAVOR. Options
// given explicitly win over the environment.
func FromEnv(ctx context.Context, opts ...registry.Option) (registry.Backend, error) {
	o := registry.NewOptions(withDefaults(opts)...)
	prefix, _ := o.Env(registry.EnvRegistry)
	p, err := registry.ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	if o.Flavor == registry.FlavorUnknown {
		raw, _ := o.Env(registry.EnvFlavor)
		f, err := registry.ParseFlavor(raw)
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.WithFlavor(f))
	}
	return registry.Open(ctx, p, Drivers(), withDefaults(opts)...)
}

// withDefaults puts the defaults first so that the caller's options win:
// the process environment, one shared HTTP transport (so that selection's
// probe and the backend reuse a connection), and the /v2/ probe.
func withDefaults(opts []registry.Option) []registry.Option {
	defaults := []registry.Option{
		registry.WithGetenv(os.LookupEnv),
		registry.WithProbe(Probe),
		func(o *registry.Options) {
			if o.HTTPClient == nil {
				o.HTTPClient = &http.Client{Transport: httpx.NewTransport()}
			}
		},
	}
	return append(defaults, opts...)
}

// Probe pings p's registry with GET /v2/ and returns its challenge. It is the
// registry.ProbeFunc the built-in selection uses.
func Probe(ctx context.Context, p registry.Prefix, o *registry.Options) (*registry.Challenge, error) {
	return tokenflow.Ping(ctx, httpx.NewClient(o), p.Host(), httpx.Scheme(p.Host(), o))
}
