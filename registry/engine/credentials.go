package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/molecule-ai/registrykit/internal/envvar"
	"github.com/molecule-ai/registrykit/internal/host"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// DefaultCredentials is the credential source of a backend for t: the
// caller's source (Options.Credentials) when set, otherwise, in order,
// the flavor's user/secret environment pair (when userVar is not empty),
// the generic pair MOLECULE_IMAGE_REGISTRY_USER / MOLECULE_IMAGE_REGISTRY_TOKEN,
// Docker's config (the source Options.DockerConfig gives, found
// through t's environment; package backends gives it, and
// registry.WithoutDockerConfig leaves it out) and anonymous access.
//
// Credentials from environment variables go only to the registry they were
// configured for: the host of MOLECULE_IMAGE_REGISTRY, or one of envHosts
// (ghcr.io for GHCR_USER and GHCR_TOKEN). Any other host gets Docker's
// config or nothing.
func DefaultCredentials(t Target, userVar, secretVar string, envHosts ...string) authn.Source {
	o := t.Options
	if o.Credentials != nil {
		return o.Credentials
	}
	var sources []authn.Source
	if envBound(o, t.Prefix.Host(), envHosts) {
		if userVar != "" {
			sources = append(sources, authn.Env(userVar, secretVar, o.Env.Lookup))
		}
		sources = append(sources, authn.Env(envvar.User, envvar.Token, o.Env.Lookup))
	}
	if o.DockerConfig != nil && !o.NoDockerConfig {
		sources = append(sources, o.DockerConfig(o.Env.Lookup))
	}
	return authn.Chain(append(sources, authn.Anonymous)...)
}

// envBound reports whether credentials from environment variables may be
// sent to host.
func envBound(o *registry.Options, registryHost string, envHosts []string) bool {
	reg, ok := parseHost(registryHost, "https")
	if !ok {
		return false
	}
	return slices.ContainsFunc(append([]string{o.ConfiguredHost()}, envHosts...), func(s string) bool {
		h, ok := parseHost(s, "https")
		return ok && host.Same(h, reg)
	})
}

// resolve returns the credential of src for host, anonymous when src has
// none.
func resolve(ctx context.Context, src authn.Source, host, hint string) (authn.Credential, error) {
	c, err := src.Resolve(ctx, host)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, authn.ErrNoCredential):
		return authn.Credential{}, nil
	default:
		return authn.Credential{}, credentialError(err, host, hint)
	}
}
