// Package gar is the driver for Google Artifact Registry
// (<location>-docker.pkg.dev) and for the gcr.io hosts it serves (gcr.io,
// us.gcr.io, eu.gcr.io, asia.gcr.io).
//
// Credentials come from Google's Application Default Credentials, resolved
// in the backend's environment (registry.Options.Env): the JSON file
// GOOGLE_APPLICATION_CREDENTIALS names (a service-account key, or a
// workload identity federation configuration), then gcloud's
// application_default_credentials.json, then the metadata server (Compute
// Engine, GKE workload identity, Cloud Run). golang.org/x/oauth2/google
// turns each into an OAuth2 access token; Config.TokenSource replaces the
// chain.
//
// The access token goes straight to the registry as "Authorization: Bearer
// <token>", as Google's reference for the registry API shows
// (docs.cloud.google.com/artifact-registry/docs/reference/docker-api,
// "Authenticating using the Docker Registry HTTP API": curl -H
// "Authorization: Bearer $(gcloud auth print-access-token)"): no /v2/ probe
// and no token exchange. A cold check costs one token request to Google and
// one HEAD; every later check, in any repository, one HEAD; the token (an
// hour's life) is fetched again ahead of its expiry. A Docker client is
// given the user "oauth2accesstoken" with the token as password
// (docs.cloud.google.com/artifact-registry/docs/docker/authentication,
// "Access token"), the form docker login takes.
package gar

import (
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
)

// dockerUser is the user name Artifact Registry takes with an OAuth2 access
// token as password.
const dockerUser = "oauth2accesstoken"

// hint is the fix named in authentication errors.
const hint = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key or workload identity federation file, or run gcloud auth application-default login, or on Google Cloud attach a service account; it needs roles/artifactregistry.reader on the repository"

// Config configures the Artifact Registry driver. The zero value, and a nil
// *Config, use Application Default Credentials.
type Config struct {
	// TokenSource, when set, supplies the access tokens instead of
	// Application Default Credentials. The driver asks it for a token ahead
	// of the current one's expiry; a source that caches
	// (oauth2.ReuseTokenSource) may answer with the same token until its
	// own refresh.
	TokenSource oauth2.TokenSource
}

// Driver returns the Artifact Registry driver configured by c (nil: the
// defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	return engine.Spec{
		Flavor:     registry.FlavorGAR,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorGAR },
		Configure:  func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

// configure does no I/O: credentials are resolved on the first token
// request, and again on every later one.
func configure(t engine.Target, c Config) (engine.Config, error) {
	src := newTokens(t.Prefix.Host(), c.TokenSource, t.Options)
	return engine.Config{
		Auth: engine.FetchedToken{
			Fetch: src.fetch,
			DockerCredential: func(tok *oauth2.Token) (authn.Credential, error) {
				return authn.Credential{Username: dockerUser, Password: tok.AccessToken}, nil
			},
		},
		// No Rejected: a token the registry no longer takes is answered 401,
		// which the engine counts as a refusal (one fresh token, then the
		// error); a 403 is a missing IAM permission, not an expired token.
		Hint: hint,
	}, nil
}
