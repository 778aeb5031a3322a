package engine

import (
	"context"
	"net/http"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
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
	// Realm and Service, when Realm is set, are the flavor's token service,
	// known in advance, so that no /v2/ probe is sent.
	Realm, Service string
	// RealmOnRegistryHost refuses a token realm on another host than the
	// registry (Gitea's realm is its ROOT_URL), except RealmHosts.
	RealmOnRegistryHost bool
	// RealmHosts are further hosts credentials may go to as a token realm,
	// over HTTPS (an operator's proxy name for Gitea's ROOT_URL).
	RealmHosts []string
	// RealmFix is appended to a refused realm's error (Gitea: set ROOT_URL).
	RealmFix string
	// Credentials is where the credential comes from; nil means
	// [DefaultCredentials] with no flavor variables.
	Credentials authn.Source
	// MultiScope says the token service honours, or may honour, several
	// scope parameters in one request (the distribution token spec allows
	// it; GitLab, Harbor, Quay and Docker Hub do), so that a watcher's tick
	// fetches one token for all its repositories (registry.TokenPreparer).
	// Whether the service really does is found out on the first tick that
	// asks (see multiScope in multiscope.go): a service that keeps only one
	// scope costs one token request and one HEAD more per repository on
	// that tick, and the backend asks for one scope per request from the
	// next tick on.
	MultiScope bool
	// Unscoped makes one token serve every repository (Gitea ignores
	// scopes), so a new repository costs no token request.
	Unscoped bool
	// NormalizeRepo rewrites a full repository path before use (GHCR
	// lowercases; Docker Hub adds "library/").
	NormalizeRepo func(string) string
	// Rejected reports answers, besides 401, that mean a token was refused
	// (ECR's bare 403, ECR Public's 400 DENIED): the engine fetches a new
	// token once, and at most once per token and repository.
	Rejected func(*http.Response) bool
	// Direct, "Bearer" or "Basic", sends a user:password credential
	// straight to the registry API as "<Direct> base64(user:password)", with
	// no token request at all — ghcr.io takes a PAT as a bearer token, Gitea
	// takes Basic on /v2/ — and falls back to the challenge flow, for the
	// backend's lifetime, the first time the registry refuses it. "" never
	// does.
	Direct string
	// FetchToken, when set, replaces challenge discovery and the exchange:
	// it returns a token for every repository (ECR's GetAuthorizationToken,
	// sent as Basic), cached until ahead of its Expiry.
	FetchToken func(ctx context.Context) (*oauth2.Token, error)
	// DockerCredential, with FetchToken, turns the token into what a Docker
	// client presents ("AWS" and the password for ECR). Without FetchToken
	// the credential from Credentials is presented.
	DockerCredential func(tok *oauth2.Token) (authn.Credential, error)
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
