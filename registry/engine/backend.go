package engine

import (
	"context"
	"net/http"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/tokencache"
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
	auth      *authorizer
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
	var known *registry.Challenge
	switch {
	case cfg.FetchToken != nil:
	case cfg.Realm != "":
		known = KnownChallenge(cfg.Realm, cfg.Service, b.scheme == "http")
	case t.Challenge != nil:
		known = t.Challenge
	}
	b.auth = &authorizer{b: b, cache: tokencache.New(o.Now().Now), challenge: known}
	return b
}

func (b *backend) Host() string            { return b.prefix.Host() }
func (b *backend) Prefix() string          { return b.prefix.String() }
func (b *backend) Flavor() registry.Flavor { return b.flavor }

// Challenge implements registry.ChallengeReporter.
func (b *backend) Challenge() *registry.Challenge {
	b.auth.mu.Lock()
	defer b.auth.mu.Unlock()
	return b.auth.challenge
}

// Discover implements registry.Discoverer: it learns the registry's
// challenge now (a probe, unless it is known). A flavor with its own token
// fetcher (ECR) has no challenge to learn, and Discover does nothing: its
// cloud configuration is loaded and checked by the first token request,
// which Token(ctx, "") makes early.
func (b *backend) Discover(ctx context.Context) error {
	if b.cfg.FetchToken != nil {
		return nil
	}
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	_, err := b.auth.currentChallenge(ctx)
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
	if b.cfg.FetchToken != nil {
		tok, _, err := b.auth.token(ctx, "")
		if err != nil {
			return authn.Credential{}, err
		}
		if b.cfg.DockerCredential != nil {
			return b.cfg.DockerCredential(tok)
		}
		return authn.Credential{RegistryToken: tok.AccessToken}, nil
	}
	return resolve(ctx, b.cfg.Credentials, b.prefix.Host(), b.cfg.Hint)
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
