package engine

import (
	"context"
	"net/http"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// backend is the engine's registry.Backend.
type backend struct {
	flavor    registry.Flavor
	prefix    registry.Prefix
	apiHost   string
	scheme    string
	opts      *registry.Options
	cfg       Config
	client    *http.Client
	userAgent string
	auth      strategy
	refusals  refusals
	platforms platformCache
}

var (
	_ registry.Backend            = (*backend)(nil)
	_ registry.PlatformResolver   = (*backend)(nil)
	_ registry.CredentialProvider = (*backend)(nil)
	_ registry.Flavored           = (*backend)(nil)
	_ registry.Discoverer         = (*backend)(nil)
	_ registry.TokenPreparer      = (*backend)(nil)
)

func newBackend(flavor registry.Flavor, t registry.Target, cfg Config) *backend {
	o := t.Options
	b := &backend{flavor: flavor, prefix: t.Prefix, apiHost: cfg.APIHost, opts: o, cfg: cfg,
		client: newClient(o), userAgent: userAgent(o)}
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
	return b
}

func (b *backend) Host() string            { return b.prefix.Host() }
func (b *backend) Prefix() string          { return b.prefix.String() }
func (b *backend) Flavor() registry.Flavor { return b.flavor }

// Challenge implements registry.ChallengeReporter.
func (b *backend) Challenge() *registry.Challenge {
	if s, ok := b.auth.(interface{ known() *registry.Challenge }); ok {
		return s.known()
	}
	return nil
}

// Discover implements registry.Discoverer: it learns the registry's
// challenge now (a probe, unless it is known). A flavor with its own token
// fetcher (ECR) has no challenge to learn, and Discover does nothing: its
// cloud configuration is loaded and checked by the first token request,
// which Token(ctx, "") makes early.
func (b *backend) Discover(ctx context.Context) error {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	_, err := b.auth.discover(ctx)
	return err
}

// Token implements registry.Backend. An empty repo asks for the registry's
// token that names no repository (ECR's, Gitea's, a Basic credential; for a
// scoped token service, a token without scope).
func (b *backend) Token(ctx context.Context, repo string) (*oauth2.Token, error) {
	full := ""
	if repo != "" {
		var err error
		if full, err = b.repository(repo); err != nil {
			return nil, err
		}
	}
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	tok, _, err := b.auth.token(ctx, full)
	return tok, err
}

// Credential implements registry.CredentialProvider: what a Docker client
// should present to the registry.
func (b *backend) Credential(ctx context.Context) (authn.Credential, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	return b.auth.credential(ctx)
}

// PrepareTokens implements registry.TokenPreparer: one token request for
// every repository whose token is missing or due, where the flavor's token
// service honours several scopes.
func (b *backend) PrepareTokens(ctx context.Context, repos []string) error {
	full := make([]string, 0, len(repos))
	for _, repo := range repos {
		if r, err := b.repository(repo); err == nil {
			full = append(full, r)
		}
	}
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	return b.auth.prepare(ctx, full)
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
	if IsDigest(ref) {
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
