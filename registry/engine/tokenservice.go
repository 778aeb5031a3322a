package engine

import (
	"context"
	"net/http"
	"slices"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/flight"
	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// TokenService authenticates through the registry's challenge: a bearer
// token from the distribution token service (GET, or POST with an identity
// token), Basic credentials, or nothing for an open registry. The zero
// TokenService discovers the challenge with one GET /v2/, or adopts one a
// repository answers.
type TokenService struct {
	// Realm and Service, when Realm is set, are the token service, known in
	// advance, so that no /v2/ probe is sent.
	Realm, Service string
	// SameHostOnly refuses a token realm on another host than the registry
	// (Gitea's realm is its ROOT_URL), except RealmHosts.
	SameHostOnly bool
	// RealmHosts are further hosts credentials may go to as a token realm,
	// over HTTPS (an operator's proxy name for Gitea's ROOT_URL).
	RealmHosts []string
	// RealmFix is appended to a refused realm's error (Gitea: set ROOT_URL).
	RealmFix string
	// MultiScope says the service honours, or may honour, several scope
	// parameters in one request (the distribution token spec allows it;
	// GitLab, Harbor, Quay and Docker Hub do), so that a watcher's tick
	// fetches one token for all its repositories. Whether the service really
	// does is found out on the first tick that asks (multiscope.go): one
	// that keeps only one scope costs one token request and one HEAD more
	// per repository on that tick, and one scope per request from then on.
	MultiScope bool
	// Unscoped makes one token serve every repository (Gitea ignores
	// scopes), so a new repository costs no token request.
	Unscoped bool
}

func (ts TokenService) newStrategy(b *backend, t Target) strategy {
	s := &tokenService{b: b, cfg: ts, cache: tokencache.New(b.opts.Now().Now)}
	s.probes.Timeout = b.opts.Timeout()
	switch {
	case ts.Realm != "":
		s.challenge = knownChallenge(ts.Realm, ts.Service, b.scheme == "http")
	case t.Challenge != nil:
		s.challenge = t.Challenge
	}
	return s
}

// tokenService is a backend's token-service state: the challenge (known in
// advance, probed once, or adopted from a repository's answer), the tokens
// per scope, and what the service showed of multiple scopes.
type tokenService struct {
	b      *backend
	cfg    TokenService
	cache  *tokencache.Cache
	probes flight.Group[struct{}, *registry.Challenge]
	multi  multiScope

	mu        sync.Mutex
	challenge *registry.Challenge // nil until known
}

// known returns the challenge, if known.
func (s *tokenService) known() *registry.Challenge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.challenge
}

// discover returns the registry's challenge, probing /v2/ once for all the
// callers that need it; a failed probe is not remembered.
func (s *tokenService) discover(ctx context.Context) (*registry.Challenge, error) {
	if c := s.known(); c != nil {
		return c, nil
	}
	return s.probes.Do(ctx, struct{}{}, func(ctx context.Context) (*registry.Challenge, error) {
		if c := s.known(); c != nil {
			return c, nil
		}
		b := s.b
		c, err := ping(ctx, b.client, b.apiHost, b.scheme, b.opts)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.challenge == nil {
			s.challenge = c
		}
		return s.challenge, nil
	})
}

// adopt replaces the challenge with one a repository answered (a registry
// whose /v2/ is open but whose repositories are not). It reports whether
// anything changed.
func (s *tokenService) adopt(c *registry.Challenge) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.challenge
	if old != nil && old.Scheme == c.Scheme && old.Params["realm"] == c.Params["realm"] && old.Params["service"] == c.Params["service"] {
		return false
	}
	c.Insecure = s.b.scheme == "http"
	s.challenge = c
	return true
}

// key is the cache key of repository's token: the repository itself names
// the scope, so a steady check builds no string.
func (s *tokenService) key(repository string) tokencache.Key {
	k := tokencache.Key{Host: s.b.apiHost}
	if !s.cfg.Unscoped {
		k.Scope = repository
	}
	return k
}

func (s *tokenService) token(ctx context.Context, repository string) (*oauth2.Token, bool, error) {
	c, err := s.discover(ctx)
	if err != nil {
		return nil, false, err
	}
	switch {
	case c.IsBearer():
		return s.cache.Get(ctx, s.key(repository), func(ctx context.Context) (*oauth2.Token, error) {
			var scopes []string
			if repository != "" {
				scopes = []string{pullScope(repository)}
			}
			return s.bearer(ctx, c, scopes)
		})
	case c.IsBasic():
		return s.cache.Get(ctx, tokencache.Key{Host: s.b.apiHost}, func(ctx context.Context) (*oauth2.Token, error) {
			cred, err := s.credential(ctx)
			if err != nil {
				return nil, err
			}
			return basicToken(cred), nil
		})
	default:
		return &oauth2.Token{}, false, nil
	}
}

// pullScope is the token scope that pulls repository.
func pullScope(repository string) string { return "repository:" + repository + ":pull" }

// bearer fetches a token for scopes from the token service of challenge c
// with the configured credentials; errors carry the flavor's fixes.
func (s *tokenService) bearer(ctx context.Context, c *registry.Challenge, scopes []string) (*oauth2.Token, error) {
	b := s.b
	cred, err := s.credential(ctx)
	if err != nil {
		return nil, err
	}
	x := exchange{client: b.client, registryHost: b.apiHost, registryScheme: b.scheme, challenge: c, options: b.opts,
		sameHostOnly: s.cfg.SameHostOnly, realmHosts: s.cfg.RealmHosts}
	tok, err := x.token(ctx, cred, scopes)
	if err != nil {
		return nil, withHint(withRealmFix(err, s.cfg.RealmFix), b.cfg.Hint)
	}
	return tok, nil
}

func (s *tokenService) credential(ctx context.Context) (authn.Credential, error) {
	b := s.b
	return resolve(ctx, b.cfg.Credentials, b.prefix.Host(), b.cfg.Hint)
}

// refusal reports whether resp refuses tok, counting, for a token fetched
// for several scopes, a 403 until the service is known to read them all
// (ghcr.io's answer to a token without the repository's scope is not
// documented).
func (s *tokenService) refusal(tok *oauth2.Token, resp *http.Response) (refused bool, multi *multiToken) {
	refused = tok.AccessToken != "" && s.b.refused(resp)
	if multi = s.multi.of(tok); multi != nil {
		refused = s.multi.refuses(resp.StatusCode, refused)
	}
	return refused, multi
}

func (s *tokenService) retry(ctx context.Context, repository string, tok *oauth2.Token, fetched bool, resp *http.Response) bool {
	b := s.b
	if tok.AccessToken == "" {
		if resp.StatusCode != http.StatusUnauthorized {
			return false
		}
		c, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ok || !s.adopt(c) {
			return false
		}
		b.opts.Log().DebugContext(ctx, "repository answered a challenge the registry root did not; authenticating", "host", b.apiHost)
		return true
	}
	if refused, _ := s.refusal(tok, resp); !refused || !b.refusals.retry(repository, tok, fetched) {
		return false
	}
	b.opts.Log().DebugContext(ctx, "registry refused the cached token; fetching a new one", "host", b.apiHost, "status", resp.StatusCode)
	s.cache.Invalidate(s.key(repository), tok)
	s.cache.Invalidate(tokencache.Key{Host: b.apiHost}, tok)
	return true
}

// settle records the final answer: a refusal on a retry, and, for a token
// fetched for several scopes, the evidence multiScope judges.
func (s *tokenService) settle(repository string, tok, prev *oauth2.Token, resp *http.Response) {
	s.b.settleRefusal(repository, tok, prev, resp)
	if prev != nil {
		if m := s.multi.of(prev); m != nil && passedAuth(resp.StatusCode) && !s.b.refused(resp) {
			m.ownAccepted()
		}
		return
	}
	if refused, m := s.refusal(tok, resp); m != nil && !refused && passedAuth(resp.StatusCode) {
		s.multi.accepted(m, repository)
	}
}

// passedAuth reports whether an answer that was not a refusal shows the
// request's credentials were accepted: not a 403, and not an error of the
// registry's own (5xx, 429) that may have come before any check.
func passedAuth(status int) bool {
	return status < 500 && status != http.StatusTooManyRequests && status != http.StatusForbidden
}

// prepare makes one token request for every repository whose token is
// missing or due, where the service honours several scopes; the token is
// then cached under each scope. A service that turns out to keep only some
// (see multiScope) gets one scope per request from then on.
func (s *tokenService) prepare(ctx context.Context, repositories []string) error {
	if !s.cfg.MultiScope || s.cfg.Unscoped {
		return nil
	}
	b := s.b
	on, turnedOff := s.multi.beginTick()
	if turnedOff {
		b.opts.Log().DebugContext(ctx, "the token service keeps only some of several scopes; one scope per token request from now on", "host", b.apiHost)
	}
	if !on {
		return nil
	}
	c, err := s.discover(ctx)
	if err != nil || !c.IsBearer() {
		return err
	}
	var missing, scopes []string
	for _, full := range repositories {
		if s.cache.Fresh(s.key(full)) || slices.Contains(missing, full) {
			continue
		}
		missing = append(missing, full)
		scopes = append(scopes, pullScope(full))
	}
	if len(missing) < 2 {
		return nil
	}
	b.dialAhead(len(missing), c.Params["realm"])
	tok, err := s.bearer(ctx, c, scopes)
	if err != nil {
		return err
	}
	s.multi.fetched(tok)
	for _, full := range missing {
		s.cache.Set(s.key(full), tok)
	}
	return nil
}
