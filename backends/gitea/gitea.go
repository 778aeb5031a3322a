// Package gitea is the driver for Gitea's (and Forgejo's) container
// registry.
//
// It is chosen when the flavor is forced, or when a registry's /v2/
// challenge is Gitea's: service="container_registry" with a realm ending in
// /v2/token. With credentials, a check is one request: Gitea takes Basic
// credentials on /v2/ directly (Config.TokenService opts out). Anonymously,
// Gitea issues one token that serves every repository (it ignores the
// scope), so a new repository costs a single HEAD once any token is cached. Credentials come from GITEA_USER and GITEA_TOKEN, else
// MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN — sent only
// to the registry MOLECULE_IMAGE_REGISTRY names — else Docker's config, else
// anonymous access (public owners).
//
// Gitea announces its token realm on its ROOT_URL; a realm on any other host
// is refused unless the operator names that host in [Config].RealmHosts (a
// Gitea reached through a proxy name), and then only over HTTPS.
package gitea

import (
	"fmt"
	"slices"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Environment variables holding Gitea credentials.
const (
	envUser  = "GITEA_USER"
	envToken = "GITEA_TOKEN"
)

// giteaService is the service name in Gitea's challenge.
const giteaService = "container_registry"

// Hint is the fix named in Gitea authentication errors.
const hint = "set GITEA_USER and GITEA_TOKEN (an access token with the read:package scope), or run docker login for this host"

// Config configures the Gitea driver. The zero value, and a nil *Config,
// are the defaults.
type Config struct {
	// TokenService makes the backend always use Gitea's token service,
	// never Basic credentials on /v2/ directly.
	TokenService bool
	// RealmHosts allows Gitea's token realm on these hosts besides the
	// registry's (the ROOT_URL of a Gitea reached through a proxy name),
	// over HTTPS only.
	RealmHosts []string
}

// Driver returns the Gitea driver configured by c (nil: the defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = Config{TokenService: c.TokenService, RealmHosts: slices.Clone(c.RealmHosts)}
	}
	return engine.Spec{
		Flavor:          registry.FlavorGitea,
		ClaimsChallenge: isChallenge,
		Configure:       func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

// IsChallenge reports whether c is Gitea's challenge. Gitea answers
// Bearer realm="<ROOT_URL>v2/token",service="container_registry",scope="*"
// (routers/api/packages/container/container.go in go-gitea/gitea); GitLab's
// registry uses the same service name with a realm ending in /jwt/auth, so
// the realm's path tells them apart.
func isChallenge(c *registry.Challenge) bool {
	return c.IsBearer() && c.Params["service"] == giteaService && strings.HasSuffix(strings.TrimSuffix(c.Params["realm"], "/"), "/v2/token")
}

func configure(t engine.Target, c Config) (engine.Config, error) {
	host := t.Prefix.Host()
	scheme := engine.Scheme(host, t.Options)
	svc := engine.TokenService{
		Realm:        scheme + "://" + host + "/v2/token",
		Service:      giteaService,
		SameHostOnly: true,
		RealmHosts:   c.RealmHosts,
		Unscoped:     true,
		RealmFix: fmt.Sprintf("set ROOT_URL in Gitea's app.ini [server] section to %s://%s/ (the address clients reach it at), "+
			"or allow the realm's host in gitea.Config.RealmHosts", scheme, host),
	}
	if c := t.Challenge; c.IsBearer() && c.Params["realm"] != "" {
		svc.Realm = c.Params["realm"] // checked against the registry host before anything is sent
	}
	cfg := engine.Config{Auth: svc, Credentials: engine.DefaultCredentials(t, envUser, envToken), Hint: hint}
	if !c.TokenService {
		// Gitea takes Basic credentials on /v2/ itself — it offers
		// Basic realm="Gitea Container Registry" beside its Bearer challenge
		// (routers/api/packages/container/container.go in go-gitea/gitea) —
		// so with a user and token a check is one request and no token is
		// ever fetched.
		cfg.Auth = engine.Direct{Scheme: "Basic", Fallback: svc}
	}
	return cfg, nil
}
