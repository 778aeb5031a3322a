package engine

import (
	"net/http"
	"sync"
	"sync/atomic"

	"golang.org/x/oauth2"
)

// multiScope is what a backend knows of whether its token service reads
// several scope parameters in one request. A watcher's tick asks for one
// token for all its repositories (PrepareTokens); the answers to that token
// during the tick are the evidence, judged when the next tick begins:
//
//   - accepted for two repositories: the service reads several scopes
//     (verified, for the backend's lifetime);
//   - accepted for one repository and refused for another whose own token
//     was then accepted: the token was valid but lacked that scope, so the
//     service keeps only some scopes, and the backend asks for one scope per
//     request from then on (off, for its lifetime);
//   - refused everywhere (it expired, was revoked, or the registry restarted
//     with new keys): no sign either way.
type multiScope struct {
	verified atomic.Bool
	off      atomic.Bool
	last     atomic.Pointer[multiToken] // the last token fetched for several scopes
}

// multiToken is a token fetched for several scopes and the answers to it
// since the current tick began.
type multiToken struct {
	tok *oauth2.Token

	mu       sync.Mutex
	accepted string // a repository it was accepted for
	keptOne  bool   // refused for a repository whose own token was then accepted
}

// fetched records tok as the token fetched for the tick's scopes.
func (m *multiScope) fetched(tok *oauth2.Token) { m.last.Store(&multiToken{tok: tok}) }

// of returns the record of tok if it is the last token fetched for several
// scopes, else nil.
func (m *multiScope) of(tok *oauth2.Token) *multiToken {
	if t := m.last.Load(); t != nil && t.tok == tok {
		return t
	}
	return nil
}

// refuses reports whether an answer to a multi-scope token counts as a
// refusal worth one retry with the repository's own token: what the flavor
// counts as refused, and, until the service is verified to read several
// scopes, a 403 (ghcr.io's answer to a token without the repository's scope
// is not documented).
func (m *multiScope) refuses(status int, refused bool) bool {
	return refused || (status == http.StatusForbidden && !m.verified.Load())
}

// accepted records an answer to t for repository that was not a refusal.
func (m *multiScope) accepted(t *multiToken, repository string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.accepted == "":
		t.accepted = repository
	case t.accepted != repository:
		m.verified.Store(true)
	}
}

// ownAccepted records that t was refused for a repository whose own token
// was then accepted.
func (t *multiToken) ownAccepted() {
	t.mu.Lock()
	t.keptOne = true
	t.mu.Unlock()
}

// beginTick judges the last tick and starts recording the next. It returns
// whether to ask for several scopes in one request, and whether this call
// turned that off.
func (m *multiScope) beginTick() (on, turnedOff bool) {
	if m.off.Load() {
		return false, false
	}
	t := m.last.Load()
	if t == nil || m.verified.Load() {
		return true, false
	}
	t.mu.Lock()
	keptOne := t.accepted != "" && t.keptOne
	t.accepted, t.keptOne = "", false
	t.mu.Unlock()
	if keptOne {
		m.off.Store(true)
		return false, true
	}
	return true, false
}
