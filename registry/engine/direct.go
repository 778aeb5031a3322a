package engine

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/molecule-ai/registrykit/internal/tokencache"
	"golang.org/x/oauth2"
)

// Direct sends a user:password credential straight to the registry API as
// "<Scheme> base64(user:password)", with no token request at all — ghcr.io
// takes a PAT as a bearer token, Gitea takes Basic on /v2/ — and falls back
// to Fallback, for the backend's lifetime, the first time the registry
// refuses it or when there is no credential to send.
type Direct struct {
	// Scheme is "Bearer" or "Basic".
	Scheme string
	// Fallback is the token service used once the registry refused the
	// credential.
	Fallback TokenService
}

func (d Direct) newStrategy(b *backend, t Target) strategy {
	svc := d.Fallback.newStrategy(b, t).(*tokenService)
	return &direct{scheme: d.Scheme, tokenService: svc}
}

// direct is a backend's direct-credential state over its fallback.
type direct struct {
	*tokenService
	scheme string
	off    atomic.Bool // the registry refused the credential, or there is none
}

// directKey caches the direct token beside the fallback's tokens.
func (d *direct) directKey() tokencache.Key {
	return tokencache.Key{Host: d.b.apiHost, Identity: "direct"}
}

func (d *direct) token(ctx context.Context, repository string) (*oauth2.Token, bool, error) {
	if !d.off.Load() {
		tok, fetched, err := d.cache.Get(ctx, d.directKey(), func(ctx context.Context) (*oauth2.Token, error) {
			cred, err := d.credential(ctx)
			if err != nil || cred.Username == "" || cred.Password == "" {
				return &oauth2.Token{}, err // nothing to send directly
			}
			return &oauth2.Token{AccessToken: basicToken(cred).AccessToken, TokenType: d.scheme}, nil
		})
		if err != nil || tok.AccessToken != "" {
			return tok, fetched, err
		}
		d.off.Store(true) // anonymous: the token service it is
	}
	return d.tokenService.token(ctx, repository)
}

// retry turns the direct path off, for the backend's lifetime, when the
// registry refuses the direct token (401, the flavor's refusal, or 403), and
// sends once more through the token service.
func (d *direct) retry(ctx context.Context, repository string, tok *oauth2.Token, fetched bool, resp *http.Response) bool {
	if cached, ok := d.cache.Peek(d.directKey()); ok && cached == tok && tok.AccessToken != "" &&
		(d.b.refused(resp) || resp.StatusCode == http.StatusForbidden) {
		d.off.Store(true)
		d.b.opts.Log().DebugContext(ctx, "registry refused the credential sent directly; using its token service from now on", "host", d.b.apiHost)
		return true
	}
	return d.tokenService.retry(ctx, repository, tok, fetched, resp)
}

func (d *direct) prepare(ctx context.Context, repositories []string) error {
	if !d.off.Load() {
		return nil
	}
	return d.tokenService.prepare(ctx, repositories)
}
