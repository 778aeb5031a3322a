package engine

import (
	"context"
	"sync/atomic"

	"net/http"
	"net/url"
	"time"

	"github.com/molecule-ai/registrykit/internal/flight"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// backend is the engine's registry.Backend. A backend opened without a
// flavor configures itself on its first request (ready); the fields below
// configured are written once, before configured is set, and read only
// after.
type backend struct {
	prefix    registry.Prefix
	opts      *registry.Options
	client    *http.Client
	predial   *predialer // nil on a transport of the caller's
	userAgent string

	specs      []Spec // the candidates of a backend that selects its flavor by probing
	selection  flight.Group[struct{}, struct{}]
	finalErr   atomic.Pointer[error] // a configuration error selection met
	configured atomic.Bool

	flavor    registry.Flavor
	apiHost   string
	scheme    string
	cfg       Config
	auth      strategy
	refusals  refusals
	platforms platformCache
}

var _ registry.Backend = (*backend)(nil)

func newBackend(p registry.Prefix, o *registry.Options) *backend {
	client, pre := newClient(o)
	b := &backend{prefix: p, opts: o, client: client, predial: pre, userAgent: userAgent(o)}
	b.selection.Timeout = o.Timeout()
	return b
}

// setup configures b as spec's backend for t.
func (b *backend) setup(spec Spec, t Target) error {
	o := t.Options
	var cfg Config
	if spec.Configure != nil {
		c, err := spec.Configure(t)
		if err != nil {
			return err
		}
		cfg = c
	}
	b.flavor, b.cfg, b.apiHost = spec.Flavor, cfg, cfg.APIHost
	if b.apiHost == "" {
		b.apiHost = t.Prefix.Host()
	}
	b.scheme = Scheme(b.apiHost, o)
	if b.cfg.Credentials == nil {
		b.cfg.Credentials = DefaultCredentials(t, "", "")
	}
	if b.cfg.Auth == nil {
		b.cfg.Auth = TokenService{}
	}
	b.auth = b.cfg.Auth.newStrategy(b, t)
	b.configured.Store(true)
	return nil
}

// Host returns the registry host of the prefix.
func (b *backend) Host() string { return b.prefix.Host() }

// Prefix returns the prefix.
func (b *backend) Prefix() string { return b.prefix.String() }

// Flavor returns the flavor serving the registry: registry.FlavorUnknown
// until a backend that selects its flavor by probing has made its first
// request (or Discover).
func (b *backend) Flavor() registry.Flavor {
	if !b.configured.Load() {
		return registry.FlavorUnknown
	}
	return b.flavor
}

// Discover selects the flavor if it is not known yet and learns the
// registry's challenge now (a probe, unless it is known), which it
// returns. A flavor with its own token fetcher (ECR) has no challenge: its
// cloud configuration is loaded and checked by the first token request.
func (b *backend) Discover(ctx context.Context) (*registry.Challenge, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return nil, err
	}
	return b.auth.discover(ctx)
}

// Token returns the pull token of repo. An empty repo asks for the
// registry's token that names no repository (ECR's, Gitea's, a Basic
// credential; for a scoped token service, a token without scope).
func (b *backend) Token(ctx context.Context, repo string) (*oauth2.Token, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return nil, err
	}
	full := ""
	if repo != "" {
		var err error
		if full, err = b.repository(repo); err != nil {
			return nil, err
		}
	}
	tok, _, err := b.auth.token(ctx, full)
	return tok, err
}

// Credential returns what a Docker client should present to the registry.
func (b *backend) Credential(ctx context.Context) (authn.Credential, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return authn.Credential{}, err
	}
	return b.auth.credential(ctx)
}

// PrepareTokens makes one token request for every repository whose token
// is missing or due, where the flavor's token service honours several
// scopes.
func (b *backend) PrepareTokens(ctx context.Context, repos []string) error {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return err
	}
	full := make([]string, 0, len(repos))
	for _, repo := range repos {
		if r, err := b.repository(repo); err == nil {
			full = append(full, r)
		}
	}
	return b.auth.prepare(ctx, full)
}

// dialAhead has the connections of n requests to the registry dialed while
// the token request to realm is in flight (see predialer).
func (b *backend) dialAhead(n int, realm string) {
	if b.predial == nil {
		return
	}
	api := &url.URL{Scheme: b.scheme, Host: b.apiHost}
	same := false
	if r, err := url.Parse(realm); err == nil {
		same = dialAddr(r) == dialAddr(api)
	}
	b.predial.warm(api, n, same)
}

// repository returns the normalised full path of repo and validates it.
func (b *backend) repository(repo string) (string, error) {
	if repo == "" {
		return "", checkRepo(repo)
	}
	full := b.prefix.Repository(repo)
	if b.cfg.NormalizeRepo != nil {
		full = b.cfg.NormalizeRepo(full)
	}
	return full, checkRepo(full)
}

// image renders repository:ref on the registry for error messages.
func (b *backend) image(repository, ref string) string {
	name := b.prefix.Host() + "/" + repository
	if isDigest(ref) {
		return name + "@" + ref
	}
	return name + ":" + ref
}

// withDeadline bounds ctx by the options' request timeout unless ctx ends
// sooner. Every operation runs under it, so that a stalled server cannot
// hold a caller without a deadline forever.
func withDeadline(ctx context.Context, o *registry.Options) (context.Context, context.CancelFunc) {
	d := o.Timeout()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
