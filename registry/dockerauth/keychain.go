package dockerauth

import (
	"context"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// Keychain returns a go-containerregistry keychain that authenticates to b's
// host with b's credential (ECR included, with no credential helper), and
// asks fallback for any other host. A nil fallback means anonymous access
// elsewhere. Use it with remote.WithAuthFromKeychain, crane or ko.
func Keychain(b registry.Backend, fallback ggcrauthn.Keychain) ggcrauthn.Keychain {
	return &keychain{backend: b, fallback: fallback}
}

type keychain struct {
	backend  registry.Backend
	fallback ggcrauthn.Keychain
}

// Resolve implements ggcrauthn.Keychain.
func (k *keychain) Resolve(r ggcrauthn.Resource) (ggcrauthn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements ggcrauthn.ContextKeychain.
func (k *keychain) ResolveContext(ctx context.Context, r ggcrauthn.Resource) (ggcrauthn.Authenticator, error) {
	if !sameRegistry(r.RegistryStr(), k.backend.Host()) {
		if k.fallback == nil {
			return ggcrauthn.Anonymous, nil
		}
		return ggcrauthn.Resolve(ctx, k.fallback, r)
	}
	c, err := k.backend.Credential(ctx)
	if err != nil {
		return nil, err
	}
	if c.IsAnonymous() {
		return ggcrauthn.Anonymous, nil
	}
	return ggcrauthn.FromConfig(ggcrauthn.AuthConfig{
		Username: c.Username, Password: c.Password, IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken,
	}), nil
}
