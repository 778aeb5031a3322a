// Package driverkit holds what the built-in drivers share when they open a
// backend: the credential chain from options and environment, and the
// mapping of credential errors to typed ones.
package driverkit

import (
	"context"
	"errors"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/regclient"
	"github.com/molecule-ai/registrykit/registry"
)

// Credentials returns the credential function of a backend for host: the
// caller's source from options when set, otherwise the user/secret
// environment pair (when named), then Docker's config, then anonymous
// access. hint is added to configuration errors.
func Credentials(o *registry.Options, host, userVar, secretVar, hint string) regclient.CredentialFunc {
	src := o.Credentials
	if src == nil {
		var env authn.Source
		if userVar != "" {
			env = authn.Env(userVar, secretVar, o.Getenv)
		}
		src = authn.Chain(env, authn.DockerConfig, authn.Anonymous)
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
