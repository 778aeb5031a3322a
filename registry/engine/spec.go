package engine

import (
	"net/http"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// Spec describes a registry flavor to the engine — only what differs from
// the OCI distribution protocol. It is the one driver contract: the
// built-in flavors are Specs, and a third party's flavor is one too
// ([Open] takes a list of them).
type Spec struct {
	// Flavor names the flavor.
	Flavor registry.Flavor
	// ClaimsHost reports whether the flavor serves host by its name alone
	// (ghcr.io, an ECR host). Nil claims no host.
	ClaimsHost func(host string) bool
	// ClaimsChallenge reports whether the flavor serves a registry whose
	// /v2/ answered c (Gitea's service="container_registry"). Nil claims
	// none.
	ClaimsChallenge func(c *registry.Challenge) bool
	// Fallback makes the flavor serve any host no other driver claims.
	Fallback bool
	// Configure returns the configuration of one backend. It must do no I/O
	// and fails only on configuration errors. Nil means the zero Config
	// (plain distribution: discover the challenge, Docker's config).
	Configure func(t Target) (Config, error)
}

// Target is what a Spec's Configure receives to configure a backend: the
// prefix, the caller's options (read-only) and, when selection probed the
// registry, the challenge its /v2/ answered.
type Target struct {
	Prefix  registry.Prefix
	Options *registry.Options
	// Challenge is the registry's /v2/ challenge when selection probed it,
	// so that the flavor need not probe again; nil otherwise.
	Challenge *registry.Challenge
}

// Config is what a flavor says about one backend. Every field is optional.
type Config struct {
	// APIHost is where requests go, when it is not the prefix's host
	// (registry-1.docker.io for docker.io).
	APIHost string
	// Auth is how the registry authenticates; nil is the zero
	// [TokenService]: the challenge is discovered.
	Auth Auth
	// Credentials is where the credential comes from; nil means
	// [DefaultCredentials] with no flavor variables.
	Credentials authn.Source
	// NormalizeRepo rewrites a full repository path before use (GHCR
	// lowercases; Docker Hub adds "library/").
	NormalizeRepo func(string) string
	// Rejected reports answers, besides 401, that mean a token was refused
	// (ECR's bare 403, ECR Public's 400 DENIED): a new token is fetched
	// once, and at most once per token and repository.
	Rejected func(*http.Response) bool
	// Hint says how to fix an authentication failure, naming the flavor's
	// variables.
	Hint string
}
