package engine

import (
	"context"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/bounded"
	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// Auth is how a registry authenticates: a [TokenService] (the default,
// discovered from the registry's challenge when its realm is not known), a
// [Direct] credential that falls back to a token service, or a
// [FetchedToken] such as ECR's. Each owns its cache keys, what it counts as
// a refusal and what it learns from the registry's answers.
type Auth interface {
	newStrategy(b *backend, t Target) strategy
}

// strategy is one backend's authentication state.
type strategy interface {
	// token returns the token for repository ("" for the registry-wide
	// one), and whether it comes from a fetch this call waited for. An empty
	// AccessToken sends no Authorization.
	token(ctx context.Context, repository string) (tok *oauth2.Token, fetched bool, err error)
	// retry reports whether to send the request once more after resp, the
	// first answer to tok, and learns from it (forgets a refused token,
	// turns the direct credential off, adopts a challenge).
	retry(ctx context.Context, repository string, tok *oauth2.Token, fetched bool, resp *http.Response) bool
	// settle records the final answer resp to tok; prev is the token the
	// first attempt sent when the request was retried, else nil.
	settle(repository string, tok, prev *oauth2.Token, resp *http.Response)
	// prepare readies the tokens of a tick's repositories (full names).
	prepare(ctx context.Context, repositories []string) error
	// credential is what a Docker client should present.
	credential(ctx context.Context) (authn.Credential, error)
	// discover learns the registry's challenge now; nil when the strategy
	// has none.
	discover(ctx context.Context) (*registry.Challenge, error)
}

// FetchedToken is a token the flavor obtains itself for every repository
// (ECR's GetAuthorizationToken, sent as Basic): no challenge, no exchange,
// cached until ahead of its Expiry.
type FetchedToken struct {
	// Fetch returns the token.
	Fetch func(ctx context.Context) (*oauth2.Token, error)
	// DockerCredential turns the token into what a Docker client presents
	// ("AWS" and the password for ECR); nil presents it as an identity
	// token.
	DockerCredential func(tok *oauth2.Token) (authn.Credential, error)
}

func (f FetchedToken) newStrategy(b *backend, _ Target) strategy {
	return &fetchedToken{b: b, cfg: f, cache: tokencache.New(b.opts.Now().Now)}
}

type fetchedToken struct {
	b     *backend
	cfg   FetchedToken
	cache *tokencache.Cache
}

func (f *fetchedToken) token(ctx context.Context, _ string) (*oauth2.Token, bool, error) {
	b := f.b
	return f.cache.Get(ctx, tokencache.Key{Host: b.apiHost}, func(ctx context.Context) (*oauth2.Token, error) {
		start := time.Now()
		tok, err := f.cfg.Fetch(ctx)
		if observe := b.opts.OnRequest; observe != nil {
			r := registry.Request{Kind: "token", Method: "API", Host: b.apiHost, Err: err, Duration: time.Since(start)}
			if err == nil {
				r.Status = http.StatusOK
			}
			observe(r)
		}
		return tok, err
	})
}

func (f *fetchedToken) retry(_ context.Context, repository string, tok *oauth2.Token, fetched bool, resp *http.Response) bool {
	if tok.AccessToken == "" || !f.b.refused(resp) || !f.b.refusals.retry(repository, tok, fetched) {
		return false
	}
	f.cache.Invalidate(tokencache.Key{Host: f.b.apiHost}, tok)
	return true
}

func (f *fetchedToken) settle(repository string, tok, prev *oauth2.Token, resp *http.Response) {
	f.b.settleRefusal(repository, tok, prev, resp)
}

func (f *fetchedToken) prepare(context.Context, []string) error { return nil }

func (f *fetchedToken) credential(ctx context.Context) (authn.Credential, error) {
	tok, _, err := f.token(ctx, "")
	if err != nil {
		return authn.Credential{}, err
	}
	if f.cfg.DockerCredential != nil {
		return f.cfg.DockerCredential(tok)
	}
	return authn.Credential{RegistryToken: tok.AccessToken}, nil
}

// discover has nothing to learn: the cloud configuration is loaded and
// checked by the first token request.
func (f *fetchedToken) discover(context.Context) (*registry.Challenge, error) { return nil, nil }

// refusals remembers, per repository, the last token the registry refused,
// so that a token is refreshed at most once for a repository that keeps
// refusing it: ECR answers 403 for a denial as for an expired token, and a
// denied repository must not cost a token fetch on every check.
type refusals struct {
	last bounded.Map[string, *oauth2.Token]
}

// retry decides on tok, just refused for repository: a token fresh from a
// fetch, or one already refused there, means a denial (no retry); any other
// is worth one retry with a fresh token. Either way tok is remembered.
func (r *refusals) retry(repository string, tok *oauth2.Token, fetched bool) bool {
	last, _ := r.last.Get(repository)
	r.last.Set(repository, tok)
	return !fetched && last != tok
}

// settleRefusal remembers tok when the registry refused it on a retry (a
// fresh token refused: a denial).
func (b *backend) settleRefusal(repository string, tok, prev *oauth2.Token, resp *http.Response) {
	if prev != nil && tok.AccessToken != "" && b.refused(resp) {
		b.refusals.last.Set(repository, tok)
	}
}

// refused reports whether resp means the token sent was refused: 401, or
// what the flavor's Rejected recognises.
func (b *backend) refused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized || (b.cfg.Rejected != nil && b.cfg.Rejected(resp))
}

// basicToken returns the token that sends cred as HTTP Basic credentials.
// An anonymous credential yields an empty token (no header). It never
// expires: the registry's 401 invalidates it.
func basicToken(cred authn.Credential) *oauth2.Token {
	if cred.Username == "" && cred.Password == "" {
		return &oauth2.Token{}
	}
	return &oauth2.Token{
		AccessToken: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password)),
		TokenType:   "Basic",
	}
}

// Cached returns fetch behind a cache of one token: concurrent callers share
// one fetch, which runs under its own deadline, and the token is refetched
// ahead of its Expiry (at 80 % of its life, at least 30 s before it) and
// never handed out expired. A driver caches a credential it obtains from
// elsewhere with it (ECR Public's password from GetAuthorizationToken). now
// is the clock (time.Now when nil).
func Cached(now func() time.Time, fetch func(ctx context.Context) (*oauth2.Token, error)) func(ctx context.Context) (*oauth2.Token, error) {
	cache := tokencache.New(now)
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, _, err := cache.Get(ctx, tokencache.Key{}, fetch)
		return tok, err
	}
}
