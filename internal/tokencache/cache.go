// Package tokencache caches registry tokens per (host, identity, scope),
// refreshes them ahead of expiry, and shares each fetch among the callers
// that need it (package internal/flight).
package tokencache

import (
	"context"
	"errors"
	"time"

	"github.com/molecule-ai/registrykit/internal/bounded"
	"github.com/molecule-ai/registrykit/internal/flight"
	"golang.org/x/oauth2"
)

// Key identifies one cached token.
type Key struct {
	// Host is the registry host the token is for.
	Host string
	// Identity distinguishes credentials sharing a cache (a user name, an
	// AWS access key ID); "" when the cache serves one identity.
	Identity string
	// Scope names what the token is scoped to (the engine uses the
	// repository, "org/name"), or "" for a token that serves every
	// repository (ECR, Gitea). Keys are only compared.
	Scope string
}

// Fetch obtains a new token. A token with a zero Expiry never expires.
type Fetch func(ctx context.Context) (*oauth2.Token, error)

// Defaults for refresh-ahead: a token is refreshed once RefreshFraction of
// its lifetime has passed, and at least MinLead before it expires (but never
// in the first half of its life). A token with less than ExpiryMargin (or a
// quarter of its lifetime, for very short-lived tokens) left is never handed
// out. A fetch runs under its own deadline of FetchTimeout.
const (
	RefreshFraction = 0.8
	MinLead         = 30 * time.Second
	ExpiryMargin    = 5 * time.Second
	FetchTimeout    = 30 * time.Second
	// MaxEntries is the size past which expired tokens are swept; live
	// tokens are never evicted, so the cache is bounded by what is in use.
	MaxEntries = 256
)

// Cache is a token cache. The zero value is not usable; call [New].
type Cache struct {
	now     func() time.Time
	entries bounded.Map[Key, entry]
	fetches flight.Group[Key, *oauth2.Token]
}

// entry is one cached token and its schedule.
type entry struct {
	tok       *oauth2.Token
	refreshAt time.Time // when a fetch is due
	expireAt  time.Time // when tok stops being handed out; zero: never
}

// usable reports whether e holds a token that may be handed out at now.
func (e entry) usable(now time.Time) bool {
	return e.tok != nil && (e.expireAt.IsZero() || now.Before(e.expireAt))
}

// fresh reports whether e is usable and not yet due for refresh.
func (e entry) fresh(now time.Time) bool { return e.usable(now) && now.Before(e.refreshAt) }

// New returns an empty cache reading time from now (time.Now when nil).
func New(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c := &Cache{now: now}
	c.entries.Max = MaxEntries
	c.entries.Stale = func(e entry) bool { return !e.usable(c.now()) }
	c.fetches.Timeout = FetchTimeout
	return c
}

// Get returns the token for key, calling fetch when there is none, when the
// cached one is due for refresh, or when it has expired. fetched reports
// that the token comes from a fetch this call waited for, not from the
// cache.
//
// Concurrent callers for the same key share one fetch, which runs under its
// own deadline (FetchTimeout); every caller leaves when its own ctx ends.
// While a due token is being refreshed, other callers keep receiving it as
// long as it is valid. When a refresh fails (or panics) but the cached token
// is still valid, Get returns the cached token; an expired token is never
// returned. A failed fetch is not cached: the next call fetches again.
func (c *Cache) Get(ctx context.Context, key Key, fetch Fetch) (tok *oauth2.Token, fetched bool, err error) {
	e, _ := c.entries.Get(key)
	now := c.now()
	if e.fresh(now) || e.usable(now) && c.fetches.Busy(key) {
		return e.tok, false, nil
	}
	tok, err = c.fetches.Do(ctx, key, func(ctx context.Context) (*oauth2.Token, error) {
		if e, _ := c.entries.Get(key); e.fresh(c.now()) {
			return e.tok, nil // another fetch landed meanwhile
		}
		tok, err := fetch(ctx)
		if err == nil && tok == nil {
			err = errors.New("token fetch returned no token")
		}
		if err == nil {
			c.Set(key, tok)
		}
		return tok, err
	})
	if err != nil {
		if ctx.Err() == nil {
			if e, _ := c.entries.Get(key); e.usable(c.now()) {
				return e.tok, false, nil // the cached token is still good: keep serving it
			}
		}
		return nil, false, err
	}
	return tok, true, nil
}

// Invalidate drops the cached token for key if it is still tok (so that a
// token refreshed meanwhile by another caller survives). Call it when the
// registry rejected tok.
func (c *Cache) Invalidate(key Key, tok *oauth2.Token) {
	if e, ok := c.entries.Get(key); !ok || e.tok != tok {
		return
	}
	c.entries.Update(key, func(e entry, _ bool) entry {
		if e.tok == tok {
			return entry{}
		}
		return e
	})
}

// Fresh reports whether key holds a token that is valid and not yet due for
// refresh: a Get would return it without fetching.
func (c *Cache) Fresh(key Key) bool {
	e, _ := c.entries.Get(key)
	return e.fresh(c.now())
}

// Set stores tok, fetched now, under key, as a fetch would (a token that
// serves several keys, such as one token for several scopes).
func (c *Cache) Set(key Key, tok *oauth2.Token) {
	refreshAt, expireAt := schedule(tok, c.now())
	c.entries.Set(key, entry{tok: tok, refreshAt: refreshAt, expireAt: expireAt})
}

// Peek returns the cached token for key if it is valid, without fetching.
func (c *Cache) Peek(key Key) (*oauth2.Token, bool) {
	e, _ := c.entries.Get(key)
	if e.usable(c.now()) {
		return e.tok, true
	}
	return nil, false
}

// Len returns the number of entries, for tests and metrics.
func (c *Cache) Len() int { return c.entries.Len() }

// schedule returns when tok, fetched at fetched, becomes due for refresh
// and when it stops being handed out (zero: never).
func schedule(tok *oauth2.Token, fetched time.Time) (refreshAt, expireAt time.Time) {
	if tok.Expiry.IsZero() {
		return time.Unix(1<<62, 0), time.Time{}
	}
	life := tok.Expiry.Sub(fetched)
	if life <= 0 {
		return fetched, fetched
	}
	lead := max(time.Duration(float64(life)*(1-RefreshFraction)), MinLead)
	lead = min(lead, life/2)
	return tok.Expiry.Add(-lead), tok.Expiry.Add(-min(ExpiryMargin, life/4))
}
