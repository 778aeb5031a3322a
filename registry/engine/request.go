package engine

import (
	"context"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// send is the engine's request loop: one authenticated request to the
// registry API, in four steps.
//
//  1. The token for repository (see authorizer.token).
//  2. The request, with Accept, User-Agent and Authorization.
//  3. A 401 without credentials that carries a challenge the backend did
//     not know (a registry whose /v2/ is open but whose repositories are
//     not): adopt it and send once more.
//  4. A refused token (401, or what the flavor's Rejected recognises):
//     forget it and send once more with a fresh one — at most once per
//     token and repository, so that a denied repository (ECR answers 403
//     for a denial as for an expired token) costs no token fetch on every
//     check. The answers to a token fetched for several scopes
//     (PrepareTokens) are recorded as evidence for multiScope, which also
//     says when a 403 to it counts as a refusal.
//
// The caller maps the answer.
func (b *backend) send(ctx context.Context, method, path, accept, repository string) (*http.Response, *oauth2.Token, error) {
	url := b.scheme + "://" + b.apiHost + path
	var refusedMulti *multiToken // the multi-scope token refused on the first attempt
	for attempt := 0; ; attempt++ {
		tok, fetched, err := b.auth.token(ctx, repository)
		if err != nil {
			return nil, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return nil, nil, err
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		req.Header.Set("User-Agent", b.userAgent)
		if tok.AccessToken != "" {
			tok.SetAuthHeader(req)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, tok, err
		}
		if attempt > 0 {
			switch {
			case tok.AccessToken != "" && b.refused(resp):
				b.refusals.remember(repository, tok) // refused again, fresh: a denial
			case refusedMulti != nil && passedAuth(resp.StatusCode):
				refusedMulti.ownAccepted()
			}
			return resp, tok, nil
		}
		if tok.AccessToken == "" && resp.StatusCode == http.StatusUnauthorized && b.cfg.FetchToken == nil {
			if c, ok := ParseChallenge(resp.Header.Values("WWW-Authenticate")); ok && b.auth.adopt(c) {
				drain(resp)
				b.opts.Log().DebugContext(ctx, "repository answered a challenge the registry root did not; authenticating", "host", b.apiHost)
				continue
			}
		}
		if tok.AccessToken != "" && (b.refused(resp) || resp.StatusCode == http.StatusForbidden) && b.auth.refusedDirect(tok) {
			drain(resp)
			b.opts.Log().DebugContext(ctx, "registry refused the credential as a bearer token; using its token service from now on", "host", b.apiHost)
			continue
		}
		refused := tok.AccessToken != "" && b.refused(resp)
		multi := b.auth.multi.of(tok)
		if multi != nil {
			refused = b.auth.multi.refuses(resp.StatusCode, refused)
		}
		if refused {
			if fetched || b.refusals.seen(repository, tok) {
				b.refusals.remember(repository, tok)
				return resp, tok, nil // a fresh token refused: a denial, not an expiry
			}
			drain(resp)
			b.opts.Log().DebugContext(ctx, "registry refused the cached token; fetching a new one", "host", b.apiHost, "status", resp.StatusCode)
			b.refusals.remember(repository, tok)
			b.auth.invalidate(repository, tok)
			refusedMulti = multi
			continue
		}
		if multi != nil && passedAuth(resp.StatusCode) {
			b.auth.multi.accepted(multi, repository)
		}
		return resp, tok, nil
	}
}

// passedAuth reports whether an answer that was not a refusal shows the
// request's credentials were accepted: not a 403, and not an error of the
// registry's own (5xx, 429) that may have come before any check.
func passedAuth(status int) bool {
	return status < 500 && status != http.StatusTooManyRequests && status != http.StatusForbidden
}

// refused reports whether resp means the token sent was refused.
func (b *backend) refused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized || (b.cfg.Rejected != nil && b.cfg.Rejected(resp))
}

// refusals remembers, per repository, the last token the registry refused,
// so that a token is refreshed at most once for a repository that keeps
// refusing it.
type refusals struct {
	mu   sync.Mutex
	last map[string]*oauth2.Token
}

func (r *refusals) seen(repository string, tok *oauth2.Token) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[repository] == tok
}

func (r *refusals) remember(repository string, tok *oauth2.Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]*oauth2.Token{}
	}
	if len(r.last) > 1024 {
		clear(r.last)
	}
	r.last[repository] = tok
}
