package engine

import (
	"context"
	"encoding/base64"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// FetchTimeout bounds one shared token fetch. It runs under its own deadline,
// detached from the caller that started it, so that one caller giving up
// does not fail the others waiting for the same token.
const FetchTimeout = 30 * time.Second

// authorizer decides the Authorization of each request: the challenge (known
// in advance, probed once, or adopted from a repository's answer), and the
// token — a bearer token from the exchange, the credential itself for Basic,
// the flavor's own fetcher, or nothing for an open registry — cached per
// scope.
type authorizer struct {
	b     *backend
	cache *tokencache.Cache

	mu        sync.Mutex
	challenge *registry.Challenge // nil until known
	inflight  chan struct{}

	directOff atomic.Bool // the registry refused the direct credential

	multi multiScope // whether the token service reads several scopes
}

// currentChallenge returns the registry's challenge, probing /v2/ once at a
// time; a failed probe is not remembered. Waiters leave with their own
// context.
func (a *authorizer) currentChallenge(ctx context.Context) (*registry.Challenge, error) {
	for {
		a.mu.Lock()
		if c := a.challenge; c != nil {
			a.mu.Unlock()
			return c, nil
		}
		if wait := a.inflight; wait != nil {
			a.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		a.inflight = done
		a.mu.Unlock()

		b := a.b
		c, err := Ping(ctx, b.client, b.apiHost, b.scheme, b.opts)

		a.mu.Lock()
		if err == nil && a.challenge == nil {
			a.challenge = c
		}
		a.inflight = nil
		close(done)
		a.mu.Unlock()
		return c, err
	}
}

// adopt replaces the challenge with one a repository answered (a registry
// whose /v2/ is open but whose repositories are not). It reports whether
// anything changed.
func (a *authorizer) adopt(c *registry.Challenge) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.challenge
	if old != nil && old.Scheme == c.Scheme && old.Params["realm"] == c.Params["realm"] && old.Params["service"] == c.Params["service"] {
		return false
	}
	c.Insecure = a.b.scheme == "http"
	a.challenge = c
	return true
}

// pullScope is the token scope that pulls repository.
func pullScope(repository string) string { return "repository:" + repository + ":pull" }

// key is the cache key of repository's token: the repository itself names
// the scope, so a steady check builds no string.
func (a *authorizer) key(repository string, scoped bool) tokencache.Key {
	k := tokencache.Key{Host: a.b.apiHost}
	if scoped && !a.b.cfg.Unscoped {
		k.Scope = repository
	}
	return k
}

// token returns the token for repository and whether this call fetched it.
// An empty AccessToken means anonymous access.
func (a *authorizer) token(ctx context.Context, repository string) (*oauth2.Token, bool, error) {
	b := a.b
	fetched := false
	if b.cfg.FetchToken != nil {
		tok, err := a.cache.Get(ctx, a.key("", false), detached(func(ctx context.Context) (*oauth2.Token, error) {
			fetched = true
			start := time.Now()
			tok, err := b.cfg.FetchToken(ctx)
			if f := b.opts.OnRequest; f != nil {
				r := registry.Request{Kind: "token", Method: "API", Host: b.apiHost, Err: err, Duration: time.Since(start)}
				if err == nil {
					r.Status = 200
				}
				f(r)
			}
			return tok, err
		}))
		return tok, fetched, err
	}
	if b.cfg.Direct != "" && !a.directOff.Load() {
		tok, err := a.cache.Get(ctx, tokencache.Key{Host: b.apiHost, Identity: "direct"}, func(ctx context.Context) (*oauth2.Token, error) {
			fetched = true
			cred, err := resolve(ctx, b.cfg.Credentials, b.prefix.Host(), b.cfg.Hint)
			if err != nil {
				return nil, err
			}
			if cred.Username == "" || cred.Password == "" {
				return &oauth2.Token{}, nil // nothing to send directly
			}
			return &oauth2.Token{AccessToken: BasicToken(cred).AccessToken, TokenType: b.cfg.Direct}, nil
		})
		if err != nil || tok.AccessToken != "" {
			return tok, fetched, err
		}
		a.directOff.Store(true) // anonymous: the challenge flow it is
	}
	c, err := a.currentChallenge(ctx)
	if err != nil {
		return nil, false, err
	}
	switch {
	case c.IsBearer():
		tok, err := a.cache.Get(ctx, a.key(repository, true), detached(func(ctx context.Context) (*oauth2.Token, error) {
			fetched = true
			var scopes []string
			if repository != "" {
				scopes = []string{pullScope(repository)}
			}
			return a.bearer(ctx, c, scopes)
		}))
		return tok, fetched, err
	case c.IsBasic():
		tok, err := a.cache.Get(ctx, a.key("", false), func(ctx context.Context) (*oauth2.Token, error) {
			fetched = true
			cred, err := resolve(ctx, b.cfg.Credentials, b.prefix.Host(), b.cfg.Hint)
			if err != nil {
				return nil, err
			}
			return BasicToken(cred), nil
		})
		return tok, fetched, err
	default:
		return &oauth2.Token{}, false, nil
	}
}

// refusedDirect reports whether tok is the direct credential, and if so
// turns the direct path off for the backend's lifetime. Every caller that
// sent it gets true, so that each tries the token service once.
func (a *authorizer) refusedDirect(tok *oauth2.Token) bool {
	if a.b.cfg.Direct == "" {
		return false
	}
	if cached, ok := a.cache.Peek(tokencache.Key{Host: a.b.apiHost, Identity: "direct"}); !ok || cached != tok {
		return false
	}
	a.directOff.Store(true)
	return true
}

// bearer fetches a token for scopes from the token service of challenge c
// with the configured credentials; errors carry the flavor's fixes.
func (a *authorizer) bearer(ctx context.Context, c *registry.Challenge, scopes []string) (*oauth2.Token, error) {
	b := a.b
	cred, err := resolve(ctx, b.cfg.Credentials, b.prefix.Host(), b.cfg.Hint)
	if err != nil {
		return nil, err
	}
	tok, err := a.exchange(c).token(ctx, cred, scopes)
	if err != nil {
		return nil, withHint(withRealmFix(err, b.cfg.RealmFix), b.cfg.Hint)
	}
	return tok, nil
}

// exchange is a token exchange with the realm of challenge c.
func (a *authorizer) exchange(c *registry.Challenge) exchange {
	b := a.b
	return exchange{client: b.client, registryHost: b.apiHost, registryScheme: b.scheme, challenge: c, options: b.opts,
		sameHostOnly: b.cfg.RealmOnRegistryHost, realmHosts: b.cfg.RealmHosts}
}

// invalidate forgets tok, which the registry refused, so that the next
// token call fetches a new one.
func (a *authorizer) invalidate(repository string, tok *oauth2.Token) {
	a.cache.Invalidate(a.key(repository, true), tok)
	a.cache.Invalidate(a.key("", false), tok)
}

// detached runs a shared fetch under its own deadline, not the context of
// the caller that happened to start it; that caller's values (a trace, a
// logger) are kept.
func detached(fetch tokencache.Fetch) tokencache.Fetch {
	return func(ctx context.Context) (*oauth2.Token, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FetchTimeout)
		defer cancel()
		return fetch(ctx)
	}
}

// BasicToken returns the token that sends cred as HTTP Basic credentials. An
// anonymous credential yields an empty token (no header). It never expires:
// the registry's 401 invalidates it.
func BasicToken(cred authn.Credential) *oauth2.Token {
	if cred.Username == "" && cred.Password == "" {
		return &oauth2.Token{}
	}
	return &oauth2.Token{
		AccessToken: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password)),
		TokenType:   "Basic",
	}
}

// Cached returns fetch behind a cache of one token: concurrent callers share
// one fetch, and the token is refetched ahead of its Expiry (at 80 % of its
// life, at least 30 s before it) and never handed out expired. A driver
// caches a credential it obtains from elsewhere with it (ECR Public's
// password from GetAuthorizationToken). now is the clock (time.Now when
// nil).
func Cached(now func() time.Time, fetch func(ctx context.Context) (*oauth2.Token, error)) func(ctx context.Context) (*oauth2.Token, error) {
	cache := tokencache.New(now)
	return func(ctx context.Context) (*oauth2.Token, error) {
		return cache.Get(ctx, tokencache.Key{}, detached(fetch))
	}
}

// PrepareTokens implements registry.TokenPreparer: one token request for
// every repository whose token is missing or due, where the flavor's token
// service honours several scopes; the token is then cached under each scope.
// A service that turns out to keep only some (see multiScope) gets one
// scope per request from then on.
func (b *backend) PrepareTokens(ctx context.Context, repos []string) error {
	a := b.auth
	if !b.cfg.MultiScope || b.cfg.Unscoped || b.cfg.FetchToken != nil || (b.cfg.Direct != "" && !a.directOff.Load()) {
		return nil
	}
	on, turnedOff := a.multi.beginTick()
	if turnedOff {
		b.opts.Log().DebugContext(ctx, "the token service keeps only some of several scopes; one scope per token request from now on", "host", b.apiHost)
	}
	if !on {
		return nil
	}
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	c, err := a.currentChallenge(ctx)
	if err != nil || !c.IsBearer() {
		return err
	}
	var missing, scopes []string
	for _, repo := range repos {
		full, err := b.repository(repo)
		if err != nil || a.cache.Fresh(a.key(full, true)) || slices.Contains(missing, full) {
			continue
		}
		missing = append(missing, full)
		scopes = append(scopes, pullScope(full))
	}
	if len(missing) < 2 {
		return nil
	}
	tok, err := a.bearer(ctx, c, scopes)
	if err != nil {
		return err
	}
	a.multi.fetched(tok)
	for _, full := range missing {
		a.cache.Set(a.key(full, true), tok)
	}
	return nil
}
