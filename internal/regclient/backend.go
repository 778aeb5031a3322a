package regclient

import (
	"context"
	"net/http"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// Config describes one backend.
type Config struct {
	Flavor registry.Flavor
	Prefix registry.Prefix
	// APIHost is where requests go when it differs from the prefix's host
	// (Docker Hub: registry-1.docker.io for docker.io).
	APIHost string
	Scheme  string
	Options *registry.Options
	Client  *http.Client
	Auth    Authorizer
	// Credential is what a Docker Engine should present (CredentialProvider).
	Credential CredentialFunc
	// NormalizeRepo rewrites a full repository path before use (GHCR
	// lowercases; Docker Hub adds "library/").
	NormalizeRepo func(string) string
	// Hint says how to fix an authentication failure, naming the flavor's
	// credential variables.
	Hint string
	// Rejected reports answers, besides 401, that mean the token was rejected
	// and a fresh one should be tried (ECR's 403 for an expired token, ECR
	// Public's 400 DENIED).
	Rejected func(*http.Response) bool
}

// Backend implements registry.Backend and its optional interfaces over a
// Config.
type Backend struct {
	cfg       Config
	userAgent string
}

var (
	_ registry.Backend            = (*Backend)(nil)
	_ registry.PlatformResolver   = (*Backend)(nil)
	_ registry.CredentialProvider = (*Backend)(nil)
	_ registry.Flavored           = (*Backend)(nil)
)

// New returns a backend over cfg.
func New(cfg Config) *Backend {
	if cfg.APIHost == "" {
		cfg.APIHost = cfg.Prefix.Host()
	}
	if cfg.Scheme == "" {
		cfg.Scheme = httpx.Scheme(cfg.APIHost, cfg.Options)
	}
	return &Backend{cfg: cfg, userAgent: httpx.UserAgentFor(cfg.Options)}
}

// Host implements registry.Backend.
func (b *Backend) Host() string { return b.cfg.Prefix.Host() }

// Prefix implements registry.Backend.
func (b *Backend) Prefix() string { return b.cfg.Prefix.String() }

// Flavor implements registry.Flavored.
func (b *Backend) Flavor() registry.Flavor { return b.cfg.Flavor }

// Credential implements registry.CredentialProvider.
func (b *Backend) Credential(ctx context.Context) (authn.Credential, error) {
	if b.cfg.Credential == nil {
		return authn.Credential{}, nil
	}
	return b.cfg.Credential(ctx)
}

// Token implements registry.Backend.
func (b *Backend) Token(ctx context.Context, repo string) (*oauth2.Token, error) {
	full, err := b.repository(repo)
	if err != nil {
		return nil, err
	}
	return b.cfg.Auth.Token(ctx, full)
}

// repository returns the normalised full path of repo and validates it.
func (b *Backend) repository(repo string) (string, error) {
	full := b.cfg.Prefix.Repository(repo)
	if b.cfg.NormalizeRepo != nil {
		full = b.cfg.NormalizeRepo(full)
	}
	if repo == "" {
		return "", checkRepo(repo)
	}
	return full, checkRepo(full)
}

// image renders repository:ref on the registry for error messages.
func (b *Backend) image(repository, ref string) string {
	name := b.cfg.Prefix.Host() + "/" + repository
	if IsDigest(ref) {
		return name + "@" + ref
	}
	return name + ":" + ref
}

// send performs an authenticated request to the registry API. When the
// registry rejects a token that was sent (401, or what cfg.Rejected
// recognises), the token is invalidated and the request is sent once more
// with a fresh one.
func (b *Backend) send(ctx context.Context, method, path, accept, repository string) (*http.Response, error) {
	url := b.cfg.Scheme + "://" + b.cfg.APIHost + path
	for attempt := 0; ; attempt++ {
		tok, err := b.cfg.Auth.Token(ctx, repository)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return nil, err
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		req.Header.Set("User-Agent", b.userAgent)
		registry.SetAuthHeader(req, tok)
		resp, err := b.cfg.Client.Do(req)
		if err != nil {
			return nil, err
		}
		if attempt == 0 && tok.AccessToken != "" && b.rejected(resp) {
			httpx.Drain(resp)
			b.cfg.Options.Log().DebugContext(ctx, "registry rejected cached token; refreshing", "host", b.cfg.APIHost, "status", resp.StatusCode)
			b.cfg.Auth.Invalidate(repository, tok)
			continue
		}
		return resp, nil
	}
}

func (b *Backend) rejected(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized || (b.cfg.Rejected != nil && b.cfg.Rejected(resp))
}
