package authn

import (
	"context"
	"fmt"
	"strings"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// DockerConfig is the source backed by Docker's client configuration:
// $DOCKER_CONFIG/config.json or ~/.docker/config.json (and Podman's
// auth.json), with its "auths", "credHelpers" and "credsStore" entries. It is
// go-containerregistry's default keychain, so credential helpers such as
// docker-credential-ecr-login or docker-credential-gcr run as Docker would
// run them. A host the configuration does not know yields ErrNoCredential.
var DockerConfig Source = Keychain(ggcrauthn.DefaultKeychain)

// Keychain adapts a go-containerregistry keychain to a [Source].
func Keychain(kc ggcrauthn.Keychain) Source {
	return SourceFunc(func(ctx context.Context, host string) (Credential, error) {
		reg, err := name.NewRegistry(dockerConfigKey(host), name.WeakValidation)
		if err != nil {
			return Credential{}, fmt.Errorf("docker config: registry host %q: %w", host, err)
		}
		auth, err := ggcrauthn.Resolve(ctx, kc, reg)
		if err != nil {
			return Credential{}, fmt.Errorf("docker config for %s: %w", host, err)
		}
		if auth == ggcrauthn.Anonymous {
			return Credential{}, ErrNoCredential
		}
		cfg, err := ggcrauthn.Authorization(ctx, auth)
		if err != nil {
			return Credential{}, fmt.Errorf("docker config for %s: %w", host, err)
		}
		c := Credential{
			Username:      cfg.Username,
			Password:      cfg.Password,
			IdentityToken: cfg.IdentityToken,
			RegistryToken: cfg.RegistryToken,
		}
		if c.IsAnonymous() {
			return Credential{}, ErrNoCredential
		}
		return c, nil
	})
}

// dockerConfigKey maps Docker Hub's API host to the key Docker stores its
// credential under.
func dockerConfigKey(host string) string {
	switch strings.ToLower(host) {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return name.DefaultRegistry
	}
	return host
}
