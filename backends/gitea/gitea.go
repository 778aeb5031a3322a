// Package gitea is the driver for Gitea's (and Forgejo's) container
// registry.
//
// It is chosen when the flavor is forced, or when a registry's /v2/
// challenge says service="container_registry". Gitea issues one token per
// user that serves every repository (it ignores the scope), so a new
// repository costs a single HEAD once any token is cached. Credentials come
// from GITEA_USER and GITEA_TOKEN, else MOLECULE_IMAGE_REGISTRY_USER and
// MOLECULE_IMAGE_REGISTRY_TOKEN — sent only to the registry
// MOLECULE_IMAGE_REGISTRY names — else Docker's config, else anonymous access
// (public owners).
package gitea

import (
	"fmt"
	"net/url"

	"github.com/molecule-ai/registrykit/internal/driverkit"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/internal/tokenflow"
	"github.com/molecule-ai/registrykit/registry"
)

// Environment variables holding Gitea credentials.
const (
	EnvUser  = "GITEA_USER"
	EnvToken = "GITEA_TOKEN"
)

// Service is the service name in Gitea's challenge.
const Service = "container_registry"

// Hint is the fix named in Gitea authentication errors.
const Hint = "set GITEA_USER and GITEA_TOKEN (an access token with the read:package scope), or run docker login for this host"

// Driver is the Gitea driver.
type Driver struct{}

var (
	_ registry.Driver           = Driver{}
	_ registry.ChallengeClaimer = Driver{}
)

// Flavor implements registry.Driver.
func (Driver) Flavor() registry.Flavor { return registry.FlavorGitea }

// Claims implements registry.Driver: Gitea cannot be told from its host name.
func (Driver) Claims(registry.Prefix) bool { return false }

// ClaimsChallenge implements registry.ChallengeClaimer.
func (Driver) ClaimsChallenge(c *registry.Challenge) bool {
	return c.IsBearer() && c.Params["service"] == Service
}

// Open implements registry.Driver. With a probed challenge it checks the
// realm; forced, it assumes Gitea's fixed realm "/v2/token" and does no I/O.
func (Driver) Open(p registry.Prefix, o *registry.Options) (registry.Backend, error) {
	host := p.Host()
	scheme := httpx.Scheme(host, o)
	challenge := tokenflow.ChallengeFromRealm(scheme+"://"+host+"/v2/token", Service, scheme == "http")
	if c := o.Challenge; c.IsBearer() {
		if err := checkRealm(c.Params["realm"], host, scheme); err != nil {
			return nil, err
		}
		challenge = c
	}
	return driverkit.TokenFlow{
		Flavor: registry.FlavorGitea, Prefix: p, Scheme: scheme, Challenge: challenge,
		Credential: driverkit.Credentials(o, host, EnvUser, EnvToken, Hint),
		Unscoped:   true,
		Hint:       Hint,
	}.Open(o), nil
}

// checkRealm refuses a realm on another host or one that downgrades to http,
// which is what a Gitea whose ROOT_URL does not match the address it is
// reached at announces.
func checkRealm(realm, host, scheme string) error {
	u, err := url.Parse(realm)
	fail := func(reason string) error {
		return &registry.ConfigError{
			Var: "Gitea token realm", Value: realm, Kind: registry.ErrInsecure, Reason: reason,
			Fix: fmt.Sprintf("set ROOT_URL in Gitea's app.ini [server] section to %s://%s/ (the address clients reach it at), or force the distribution flavor", scheme, host),
		}
	}
	switch {
	case err != nil || u.Host == "":
		return fail("not an absolute URL")
	case scheme == "https" && u.Scheme != "https":
		return fail("downgrades the https registry to " + u.Scheme)
	case !httpx.SameHost(u, &url.URL{Scheme: scheme, Host: host}):
		return fail("is on another host than the registry " + host)
	}
	return nil
}
