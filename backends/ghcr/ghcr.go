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

	"github.com/molecule-ai/registrykit/internal/driverkit"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/internal/tokenflow"
	"github.com/molecule-ai/registrykit/registry"
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

// Driver is the GHCR driver.
type Driver struct{}

var _ registry.Driver = Driver{}

// Flavor implements registry.Driver.
func (Driver) Flavor() registry.Flavor { return registry.FlavorGHCR }

// Claims implements registry.Driver: ghcr.io.
func (Driver) Claims(p registry.Prefix) bool {
	return registry.DetectFlavor(p.Host()) == registry.FlavorGHCR
}

// Open implements registry.Driver. It does no I/O.
func (Driver) Open(p registry.Prefix, o *registry.Options) (registry.Backend, error) {
	host := p.Host()
	scheme := httpx.Scheme(host, o)
	return driverkit.TokenFlow{
		Flavor: registry.FlavorGHCR, Prefix: p, Scheme: scheme,
		Challenge:     tokenflow.ChallengeFromRealm(scheme+"://"+host+"/token", host, scheme == "http"),
		Credential:    driverkit.Credentials(o, host, EnvUser, EnvToken, Hint, Host),
		Hint:          Hint,
		NormalizeRepo: strings.ToLower,
	}.Open(o), nil
}
