// Package ghcr is the driver for GitHub Container Registry (ghcr.io), and for
// registries that speak its protocol when the flavor is forced (GitHub
// Enterprise Server's container registry, test servers).
//
// The token realm is known in advance ("https://ghcr.io/token", service
// "ghcr.io"), so no /v2/ probe is ever sent: the first digest check of a
// repository costs a token request and a HEAD, every later one a HEAD.
// Credentials come from GHCR_USER and GHCR_TOKEN (a personal access token
// with read:packages), else MOLECULE_IMAGE_REGISTRY_USER and
// MOLECULE_IMAGE_REGISTRY_TOKEN, else Docker's config, else anonymous
// access, which works for public images. Credentials from the environment go
// only to ghcr.io and to the configured registry.
package ghcr

import (
	"strings"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Host is GHCR's registry host.
const Host = "ghcr.io"

// Environment variables holding GHCR credentials. They are sent only to
// ghcr.io and to the registry MOLECULE_IMAGE_REGISTRY configures.
const (
	EnvUser  = "GHCR_USER"
	EnvToken = "GHCR_TOKEN"
)

// Hint is the fix named in GHCR authentication errors.
const Hint = "set GHCR_USER and GHCR_TOKEN (a personal access token with read:packages), or run docker login ghcr.io; note that GHCR answers 401 both for private images without credentials and for images that do not exist"

// Driver returns the GHCR driver.
func Driver() registry.Driver {
	return engine.NewDriver(engine.Spec{
		Flavor:     registry.FlavorGHCR,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorGHCR },
		Configure:  configure,
	})
}

func configure(t registry.Target) (engine.Config, error) {
	host := t.Prefix.Host()
	return engine.Config{
		// GHCR answers GET /v2/ with
		// Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull".
		Realm:         engine.Scheme(host, t.Options) + "://" + host + "/token",
		Service:       host,
		Credentials:   engine.DefaultCredentials(t, EnvUser, EnvToken, Host),
		NormalizeRepo: strings.ToLower,
		Hint:          Hint,
	}, nil
}
