// Package pullcred answers "which credential pulls from this registry?" for
// the credential helpers (docker-credential-registrykit and the kubelet
// credential provider), through registrykit's backends.
//
// It serves two kinds of registry: the one MOLECULE_IMAGE_REGISTRY
// configures, with whatever credential its flavor takes (a PAT, a token, an
// ECR password), any ECR or ECR Public host, with the ECR driver for
// that host's account and region and the AWS SDK's default chain, as
// amazon-ecr-credential-helper does, any Azure Container Registry host,
// with the ACR driver and azidentity's DefaultAzureCredential (an ACR
// refresh token, presented with the null GUID as user name, as az acr login
// hands it to docker login), and any Google Artifact Registry host
// (<location>-docker.pkg.dev, gcr.io and its regional hosts), with the gar
// driver and Google's Application Default Credentials, as
// docker-credential-gcr does. Every other registry, and a served one
// that needs no credential, is [ErrNotFound].
//
// Short-lived credentials (ECR and ECR Public passwords) are kept in a
// [credcache.Cache] keyed by registry and the AWS identity the SDK resolved
// ([AWSIdentity]), so that a helper run once per pull costs one
// GetAuthorizationToken per credential life and identity. Artifact
// Registry's access tokens are not written to the cache (it is keyed by AWS
// identity): each lookup costs one token request to Google.
// Static credentials (PATs, tokens) are never written anywhere: they are
// read again from the environment on every run.
//
// The helpers never read Docker's config: Docker (or the kubelet) consults
// it itself before or instead of running them, and a helper that read a
// config naming itself in "credHelpers" would run itself.
package pullcred

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsecrpublic "github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/docker/docker-credential-helpers/registryurl"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/acr"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/examples/internal/credcache"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
)

// ErrNotFound means the helper has no credential for the registry: it is
// not one it serves, or it needs none (anonymous pulls).
var ErrNotFound = errors.New("no credential for this registry")

// Credential is a registry's pull credential.
type Credential struct {
	// Registry is the registry host, "host[:port]", lowercased.
	Registry string
	// Username and Password are what a Docker client presents ("AWS" and
	// the password for ECR).
	Username, Password string
	// Expires is when the registry stops accepting the credential; zero for
	// a static credential (a PAT, a Gitea token), which does not expire.
	Expires time.Time
}

// Resolver finds credentials. The zero value is not usable; use [New].
type Resolver struct {
	env   registry.Env
	cache *credcache.Cache
	now   func() time.Time
	// Warn, when set, receives problems that do not stop a lookup (a cache
	// that could not be written), one line each, with no secret.
	Warn func(msg string)
	// Options, when set, configure every backend the resolver opens (a
	// user agent, a logger). Its Env is replaced by the resolver's
	// environment.
	Options *registry.Options
	// acrConfig configures the ACR driver (tests: an Entra ID credential
	// pointed at an imitation); nil is the default chain.
	acrConfig *acr.Config
}

// New returns a resolver reading env (registry.Env{} in the helpers)
// with the file cache env names ([credcache.FromEnv]; none when env has
// neither XDG_CACHE_HOME nor HOME).
func New(env registry.Env) *Resolver {
	return &Resolver{env: env, cache: credcache.FromEnv(env, time.Now), now: time.Now}
}

// Now returns the resolver's time.
func (r *Resolver) Now() time.Time { return r.now() }

// Host returns the registry host a server names: a Docker credential
// helper is given "host", "host:port" or a URL such as
// "https://index.docker.io/v1/", parsed as the credential helpers parse it
// (registryurl.Parse). The result is lowercased, without scheme, path or
// trailing dot; "" when server names no host.
func Host(server string) string {
	u, err := registryurl.Parse(strings.TrimSpace(server))
	if err != nil {
		return "" // no host: nothing is served
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if port := u.Port(); port != "" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]" // IPv6
	}
	return host
}

// route is how one registry is served.
type route struct {
	prefix string          // what to open: the configured prefix, or the host
	flavor registry.Flavor // FlavorUnknown: the backend probes
	forced bool            // open with this flavor rather than the environment's
}

// route decides whether host is served, and how.
func (r *Resolver) route(host string) (route, bool, error) {
	p, err := r.env.Prefix()
	if err != nil {
		return route{}, false, err
	}
	if sameRegistry(host, p.Host()) {
		f, err := r.env.Flavor()
		if err != nil {
			return route{}, false, err
		}
		if f == registry.FlavorUnknown {
			f = registry.DetectFlavor(p.Host())
		}
		return route{prefix: p.String(), flavor: f}, true, nil
	}
	switch f := registry.DetectFlavor(host); f {
	case registry.FlavorECR, registry.FlavorECRPublic, registry.FlavorACR, registry.FlavorGAR:
		// The flavor variable speaks of the configured registry, not this one.
		return route{prefix: host, flavor: f, forced: true}, true, nil
	}
	return route{}, false, nil
}

// sameRegistry compares registry hosts, treating Docker Hub's names alike.
func sameRegistry(a, b string) bool {
	if host.IsDockerHub(a) && host.IsDockerHub(b) {
		return true
	}
	return strings.EqualFold(a, b)
}

// shortLived reports whether a flavor's Docker credential expires (and so
// may be cached in a file).
func shortLived(f registry.Flavor) bool {
	return f == registry.FlavorECR || f == registry.FlavorECRPublic
}

// Get returns the pull credential for server (a host, "host:port" or a
// URL). It is [ErrNotFound] for a registry the resolver does not serve and
// for anonymous access; any other error names the cause and the fix and
// carries no secret.
func (r *Resolver) Get(ctx context.Context, server string) (Credential, error) {
	host := Host(server)
	if host == "" {
		return Credential{}, ErrNotFound
	}
	rt, ok, err := r.route(host)
	if err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return Credential{}, err
	}
	cache, identity := r.identityCache(ctx, rt.flavor)
	if cache != nil {
		if e, ok := cache.Get(host, identity); ok {
			return Credential{Registry: host, Username: e.Username, Password: e.Password, Expires: e.Expires}, nil
		}
	}
	var c Credential
	switch rt.flavor {
	case registry.FlavorECR, registry.FlavorGAR:
		c, err = r.fetched(ctx, rt)
	case registry.FlavorECRPublic:
		c, err = r.ecrPublic(ctx, rt)
	case registry.FlavorACR:
		c, err = r.acr(ctx, rt)
	default:
		c, err = r.static(ctx, rt)
	}
	if err != nil {
		return Credential{}, err
	}
	c.Registry = host
	if cache != nil && !c.Expires.IsZero() {
		err := cache.Put(identity, credcache.Entry{Registry: host, Username: c.Username, Password: c.Password, Expires: c.Expires})
		if err != nil && r.Warn != nil {
			r.Warn("not caching the credential for " + host + ": " + err.Error())
		}
	}
	return c, nil
}

// identityCache returns the cache and the AWS identity ([AWSIdentity]) to
// key a credential of flavor f by; a nil cache when f's credentials are not
// short-lived, there is no cache, or no AWS identity resolves (the API call
// then reports why).
func (r *Resolver) identityCache(ctx context.Context, f registry.Flavor) (*credcache.Cache, string) {
	if !shortLived(f) || r.cache == nil {
		return nil, ""
	}
	identity, err := AWSIdentity(ctx, r.env)
	if err != nil {
		return nil, ""
	}
	return r.cache, identity
}

// Erase drops the cached credential for server of the current AWS
// identity, so that the next Get fetches a new one. A registry with nothing
// cached, or no AWS identity, is not an error.
func (r *Resolver) Erase(ctx context.Context, server string) error {
	cache, identity := r.identityCache(ctx, registry.FlavorECR)
	if cache == nil {
		return nil
	}
	return cache.Delete(Host(server), identity)
}

// Cached returns the registries with a valid cached credential for the
// current AWS identity, mapped to their user names. It does no I/O beyond
// the cache directory and resolving the AWS identity.
func (r *Resolver) Cached(ctx context.Context) map[string]string {
	out := map[string]string{}
	cache, identity := r.identityCache(ctx, registry.FlavorECR)
	if cache == nil {
		return out
	}
	for _, e := range cache.List(identity) {
		out[e.Registry] = e.Username
	}
	return out
}

// options returns the options of the backend of rt: a copy of r.Options
// in the resolver's environment, with rt's flavor when it is forced.
func (r *Resolver) options(rt route) *registry.Options {
	var o registry.Options
	if r.Options != nil {
		o = *r.Options
	}
	o.Env = r.env
	if rt.forced {
		o.Flavor = rt.flavor
	}
	return &o
}

// fetched returns the credential of a flavor whose driver fetches one (an
// ECR password from GetAuthorizationToken, an Artifact Registry access
// token as the password of oauth2accesstoken), as a Docker client presents
// it, with its expiry: one request to the cloud's API, none to the
// registry.
func (r *Resolver) fetched(ctx context.Context, rt route) (Credential, error) {
	b, err := backends.Open(rt.prefix, r.options(rt))
	if err != nil {
		return Credential{}, err
	}
	tok, err := b.Token(ctx, "") // the registry's token, naming no repository: its expiry
	if err != nil {
		return Credential{}, err
	}
	cred, err := b.Credential(ctx) // the same token, cached, as a Docker client presents it
	if err != nil {
		return Credential{}, err
	}
	return Credential{Username: cred.Username, Password: cred.Password, Expires: tok.Expiry}, nil
}

// ecrPublic returns the ECR Public password and its expiry, when AWS
// credentials are configured; public images need none, so without them it
// is ErrNotFound. The ECR Public driver does not expose the password's
// expiry, so the API client handed to it records the expiresAt of the
// answer.
func (r *Resolver) ecrPublic(ctx context.Context, rt route) (Credential, error) {
	if !ecrauth.CredentialsConfigured(r.options(rt)) {
		return Credential{}, ErrNotFound
	}
	// The ECR Public API lives in us-east-1 alone.
	cfg, err := ecrauth.LoadConfig(ctx, &registry.Options{Env: r.env}, config.WithRegion("us-east-1"))
	if err != nil {
		return Credential{}, err
	}
	endpoint := ecrauth.Endpoint(r.env, "ECR_PUBLIC")
	rec := &expiryRecorder{api: awsecrpublic.NewFromConfig(cfg, func(o *awsecrpublic.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})}
	b, err := backends.Open(rt.prefix, r.options(rt), ecrpublic.Driver(&ecrpublic.Config{API: rec}))
	if err != nil {
		return Credential{}, err
	}
	cred, err := b.Credential(ctx)
	if err != nil {
		return Credential{}, err
	}
	if cred.Username == "" || cred.Password == "" {
		return Credential{}, ErrNotFound
	}
	return Credential{Username: cred.Username, Password: cred.Password, Expires: rec.expiry()}, nil
}

// static returns the credential of a registry whose Docker credential does
// not expire (GHCR, Gitea, GitLab, distribution): from the flavor's
// variables or the generic pair, never from Docker's config.
func (r *Resolver) static(ctx context.Context, rt route) (Credential, error) {
	o := r.options(rt)
	o.NoDockerConfig = true
	b, err := backends.Open(rt.prefix, o)
	if err != nil {
		return Credential{}, err
	}
	cred, err := b.Credential(ctx)
	if err != nil {
		return Credential{}, err
	}
	// Identity and registry tokens come only from Docker's config, which is
	// not read; without a user name and password there is nothing to hand out.
	if cred.Username == "" || cred.Password == "" {
		return Credential{}, ErrNotFound
	}
	return Credential{Username: cred.Username, Password: cred.Password}, nil
}

// expiryRecorder is an ECR Public API client that remembers the expiry of
// the last password it fetched.
type expiryRecorder struct {
	api ecrpublic.API

	mu      sync.Mutex
	expires time.Time
}

func (e *expiryRecorder) GetAuthorizationToken(ctx context.Context, in *awsecrpublic.GetAuthorizationTokenInput, opts ...func(*awsecrpublic.Options)) (*awsecrpublic.GetAuthorizationTokenOutput, error) {
	out, err := e.api.GetAuthorizationToken(ctx, in, opts...)
	if err == nil && out != nil && out.AuthorizationData != nil && out.AuthorizationData.ExpiresAt != nil {
		e.mu.Lock()
		e.expires = *out.AuthorizationData.ExpiresAt
		e.mu.Unlock()
	}
	return out, err
}

func (e *expiryRecorder) expiry() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.expires
}
