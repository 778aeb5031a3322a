// Package gitlab is the driver for GitLab's container registry:
// registry.gitlab.com by its name, and a self-managed GitLab's registry by
// its /v2/ challenge.
//
// GitLab's registry sends clients to GitLab itself for tokens: it answers
// Bearer realm="https://<gitlab host>/jwt/auth",service="container_registry"
// (registry.gitlab.com's realm is https://gitlab.com/jwt/auth; gitlab-foss
// #26265), usually another host than the registry, which the engine's realm
// rule accepts over HTTPS. Gitea uses the same service name with its realm at
// /v2/token; the realm's path tells them apart. GitLab's token response
// carries no expires_in; the JWT's exp (5 minutes by default, 15 on
// GitLab.com) gives the lifetime.
//
// Credentials, in order: GITLAB_USER and GITLAB_TOKEN (a deploy token's
// username and token, or any username with a personal, project or group
// access token that has read_registry); in a GitLab CI job,
// CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (gitlab-ci-token and the job
// token), sent only to the registry CI_REGISTRY names; then the generic
// MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN, Docker's
// config, anonymous access (public projects). Variables go only to the
// configured registry.
package gitlab

import (
	"context"
	"errors"
	"strings"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Environment variables holding GitLab credentials.
const (
	envUser  = "GITLAB_USER"
	envToken = "GITLAB_TOKEN"
	// In a GitLab CI job: predefined, holding gitlab-ci-token and the job
	// token for the instance's registry, which CI_REGISTRY names.
	envCIRegistry         = "CI_REGISTRY"
	envCIRegistryUser     = "CI_REGISTRY_USER"
	envCIRegistryPassword = "CI_REGISTRY_PASSWORD"
)

// gitlabService is the service name in GitLab's challenge.
const gitlabService = "container_registry"

// Hint is the fix named in GitLab authentication errors.
const hint = "set GITLAB_USER and GITLAB_TOKEN (a deploy token, or an access token with read_registry), or run docker login for this host; in CI the job token (CI_REGISTRY_USER, CI_REGISTRY_PASSWORD) is used"

// Driver returns the GitLab driver.
func Driver() engine.Spec {
	return engine.Spec{
		Flavor:          registry.FlavorGitLab,
		ClaimsHost:      func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorGitLab },
		ClaimsChallenge: isChallenge,
		Configure:       configure,
	}
}

// IsChallenge reports whether c is GitLab's challenge: service
// container_registry with a realm at /jwt/auth.
func isChallenge(c *registry.Challenge) bool {
	return c.IsBearer() && c.Params["service"] == gitlabService && strings.HasSuffix(strings.TrimSuffix(c.Params["realm"], "/"), "/jwt/auth")
}

func configure(t engine.Target) (engine.Config, error) {
	// GitLab reads every scope of a token request (jwt_controller.rb,
	// scopes_param).
	svc := engine.TokenService{MultiScope: true}
	if t.Prefix.Host() == "registry.gitlab.com" {
		svc.Realm, svc.Service = "https://gitlab.com/jwt/auth", gitlabService
	}
	return engine.Config{Auth: svc, Credentials: credentials(t), Hint: hint}, nil
}

// credentials puts the CI job's pair after GITLAB_USER/GITLAB_TOKEN, for the
// registry CI_REGISTRY names only.
func credentials(t engine.Target) authn.Source {
	if t.Options.Credentials != nil {
		return t.Options.Credentials
	}
	env := t.Options.Env
	base := engine.DefaultCredentials(t, envUser, envToken)
	ci := authn.Env(envCIRegistryUser, envCIRegistryPassword, env.Lookup)
	ciHost := env.Get(envCIRegistry)
	return authn.SourceFunc(func(ctx context.Context, host string) (authn.Credential, error) {
		if env.Get(envUser) == "" && env.Get(envToken) == "" && ciHost != "" && strings.EqualFold(ciHost, host) {
			if c, err := ci.Resolve(ctx, host); !errors.Is(err, authn.ErrNoCredential) {
				return c, err
			}
		}
		return base.Resolve(ctx, host)
	})
}
