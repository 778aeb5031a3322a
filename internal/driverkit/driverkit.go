// Package driverkit holds what the built-in drivers share when they open a
// backend: the credential chain from options and environment, the mapping
// of credential errors to typed ones, and the assembly of a token-flow
// backend.
package driverkit

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/internal/regclient"
	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/registry"
)

// Credentials returns the credential function of a backend for host: the
// caller's source from options when set, otherwise, in order, the flavor's
// user/secret environment pair (when named), the generic pair
// MOLECULE_IMAGE_REGISTRY_USER / MOLECULE_IMAGE_REGISTRY_TOKEN, Docker's
// config and anonymous access. hint is added to configuration errors.
//
// Credentials from environment variables go only to the registry they were
// configured for: the host of MOLECULE_IMAGE_REGISTRY, or one of envHosts
// (ghcr.io for GHCR_USER and GHCR_TOKEN). Any other host gets Docker's
// config or nothing.
func Credentials(o *registry.Options, host, userVar, secretVar, hint string, envHosts ...string) regclient.CredentialFunc {
	src := o.Credentials
	if src == nil {
		var sources []authn.Source
		if envBound(o, host, envHosts) {
			if userVar != "" {
				sources = append(sources, authn.Env(userVar, secretVar, o.Environ.Lookup))
			}
			sources = append(sources, authn.Env(registry.EnvUser, registry.EnvToken, o.Environ.Lookup))
		}
		src = authn.Chain(append(sources, authn.DockerConfigFrom(o.Environ.Lookup), authn.Anonymous)...)
	}
	return func(ctx context.Context) (authn.Credential, error) {
		c, err := src.Resolve(ctx, host)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, authn.ErrNoCredential):
			return authn.Credential{}, nil
		case errors.Is(err, authn.ErrIncompleteCredential):
			return authn.Credential{}, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "credentials", Image: host, Err: err}
		default:
			return authn.Credential{}, &registry.Error{Kind: registry.ErrUnauthorized, Op: "credentials", Image: host, Err: err, Hint: hint}
		}
	}
}

// envBound reports whether credentials from environment variables may be
// sent to host.
func envBound(o *registry.Options, host string, envHosts []string) bool {
	if configured := o.ConfiguredHost(); configured != "" && strings.EqualFold(host, configured) {
		return true
	}
	for _, h := range envHosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// TokenFlow describes a backend of a registry that authenticates with the
// distribution token flow (or Basic, or not at all, as its challenge says):
// GHCR, Gitea, ECR Public and any distribution registry.
type TokenFlow struct {
	Flavor registry.Flavor
	Prefix registry.Prefix
	// APIHost is where requests go, when it is not the prefix's host.
	APIHost string
	// Scheme is "http" or "https"; by default what httpx.Scheme says.
	Scheme string
	// Challenge is the registry's challenge when known in advance; nil means
	// probing /v2/ on first use (or reusing Options.Challenge).
	Challenge *registry.Challenge
	// Credential resolves the credential sent to the token service.
	Credential regclient.CredentialFunc
	// Unscoped makes one token serve every repository.
	Unscoped bool
	// Hint, NormalizeRepo and Rejected are as in regclient.Config.
	Hint          string
	NormalizeRepo func(string) string
	Rejected      func(*http.Response) bool
}

// Open returns the backend t describes.
func (t TokenFlow) Open(o *registry.Options) *regclient.Backend {
	if t.APIHost == "" {
		t.APIHost = t.Prefix.Host()
	}
	if t.Scheme == "" {
		t.Scheme = httpx.Scheme(t.APIHost, o)
	}
	client := httpx.NewClient(o)
	challenge := regclient.Probed(client, t.APIHost, t.Scheme, o.Challenge)
	if t.Challenge != nil {
		challenge = regclient.Fixed(t.Challenge)
	}
	flow := &regclient.Flow{
		Host: t.APIHost, Scheme: t.Scheme, Client: client, Options: o,
		Cache:      tokencache.New(o.Now().Now),
		Credential: t.Credential,
		Challenge:  challenge,
		Unscoped:   t.Unscoped,
		Hint:       t.Hint,
	}
	return regclient.New(regclient.Config{
		Flavor: t.Flavor, Prefix: t.Prefix, APIHost: t.APIHost, Scheme: t.Scheme, Options: o, Client: client,
		Auth: flow, Credential: t.Credential, NormalizeRepo: t.NormalizeRepo, Hint: t.Hint, Rejected: t.Rejected,
	})
}
