package engine

import (
	"context"
	"net/http"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// Spec describes a registry flavor to the engine: only what differs from
// the OCI distribution protocol. [NewDriver] makes a registry.Driver of it.
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
	Configure func(t registry.Target) (Config, error)
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

// NewDriver returns the registry.Driver of spec. It implements
// registry.ChallengeClaimer, registry.FallbackDriver, registry.Prober and
// registry.TransportMaker too.
func NewDriver(spec Spec) registry.Driver { return driver{spec} }

type driver struct{ spec Spec }

var (
	_ registry.ChallengeClaimer = driver{}
	_ registry.FallbackDriver   = driver{}
	_ registry.Prober           = driver{}
	_ registry.TransportMaker   = driver{}
)

func (d driver) Flavor() registry.Flavor { return d.spec.Flavor }

func (d driver) Claims(p registry.Prefix) bool {
	return d.spec.ClaimsHost != nil && d.spec.ClaimsHost(p.Host())
}

func (d driver) ClaimsChallenge(c *registry.Challenge) bool {
	return d.spec.ClaimsChallenge != nil && c != nil && d.spec.ClaimsChallenge(c)
}

func (d driver) Fallback() bool { return d.spec.Fallback }

// Probe implements registry.Prober: GET /v2/ on p's host.
func (d driver) Probe(ctx context.Context, p registry.Prefix, o *registry.Options) (*registry.Challenge, error) {
	return Ping(ctx, newClient(o), p.Host(), Scheme(p.Host(), o), o)
}

// NewTransport implements registry.TransportMaker: the transport a backend
// builds when registry.Options.HTTPClient is nil (see [NewTransport]).
func (d driver) NewTransport() http.RoundTripper { return NewTransport() }

// Open implements registry.Driver. It does no I/O.
func (d driver) Open(t registry.Target) (registry.Backend, error) {
	var cfg Config
	if d.spec.Configure != nil {
		c, err := d.spec.Configure(t)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	return newBackend(d.spec.Flavor, t, cfg), nil
}
