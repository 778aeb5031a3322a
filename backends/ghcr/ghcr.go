// Package ghcr is the driver for GitHub Container Registry (ghcr.io), and for
// registries that speak its protocol when the flavor is forced (GitHub
// Enterprise Server's container registry, test servers).
//
// With a personal access token, every check — cold or steady — is one HEAD:
// ghcr.io takes the PAT as a bearer token directly, and the driver falls
// back to the token service, for the backend's lifetime, if it is ever
// refused. Anonymously (or after such a fallback) the token realm is known
// in advance ("https://ghcr.io/token", service "ghcr.io"), so no /v2/ probe
// is sent: GHCR's token says no lifetime and is taken to live 60 s, so it is
// refreshed ahead every 30 s, and a check then costs a token request and a
// HEAD.
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

// ghcrHost is GHCR's registry host.
const ghcrHost = "ghcr.io"

// Environment variables holding GHCR credentials. They are sent only to
// ghcr.io and to the registry MOLECULE_IMAGE_REGISTRY configures.
const (
	envUser  = "GHCR_USER"
	envToken = "GHCR_TOKEN"
)

// Hint is the fix named in GHCR authentication errors.
const hint = "set GHCR_USER and GHCR_TOKEN (a personal access token with read:packages), or run docker login ghcr.io; note that GHCR answers 401 both for private images without credentials and for images that do not exist"

// Config configures the GHCR driver. The zero value, and a nil *Config,
// are the defaults.
type Config struct {
	// TokenService makes the backend always use GHCR's token service, never
	// the PAT as a bearer token (for a registry known to refuse it, such as
	// some GitHub Enterprise Server versions), saving the one refused request
	// the fallback would cost.
	TokenService bool
}

// Driver returns the GHCR driver configured by c (nil: the defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	return engine.Spec{
		Flavor:     registry.FlavorGHCR,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorGHCR },
		Configure:  func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

func configure(t engine.Target, c Config) (engine.Config, error) {
	host := t.Prefix.Host()
	svc := engine.TokenService{
		// GHCR answers GET /v2/ with
		// Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull".
		Realm:   engine.Scheme(host, t.Options) + "://" + host + "/token",
		Service: host,
		// A watcher's tick asks for all its scopes in one request. Whether
		// ghcr.io reads more than the first is not documented; if it keeps
		// one, the engine notices (a refused token that a single-scope one
		// replaces) and asks for one scope at a time.
		MultiScope: true,
	}
	var auth engine.Auth = svc
	if !c.TokenService {
		// ghcr.io takes a PAT as Bearer base64(user:PAT) on /v2/ directly
		// (argoproj-labs/argocd-image-updater #303, updatecli/updatecli #245):
		// one request per check, cold or steady, and no 60 s tokens to renew.
		auth = engine.Direct{Scheme: "Bearer", Fallback: svc}
	}
	return engine.Config{
		Auth:          auth,
		Credentials:   engine.DefaultCredentials(t, envUser, envToken, ghcrHost),
		NormalizeRepo: strings.ToLower,
		Hint:          hint,
	}, nil
}
