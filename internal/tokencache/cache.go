// Package tokencache caches registry tokens per (host, identity, scope),
// refreshes them ahead of expiry, and lets only one caller at a time fetch a
// given token.
package tokencache

import (
	"context"
	"errors"
	"sync"
	"time"

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
// out.
const (
	RefreshFraction = 0.8
	MinLead         = 30 * time.Second
	ExpiryMargin    = 5 * time.Second
)

// Cache is a token cache. The zero value is not usable; call [New].
type Cache struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[Key]*entry
}

type entry struct {
	tok       *oauth2.Token
	refreshAt time.Time // when a fetch is due
	expireAt  time.Time // when tok stops being handed out; zero: never
	flight    *flight   // non-nil while a fetch is under way
}

// usable reports whether e holds a token that may be handed out at now.
func (e *entry) usable(now time.Time) bool {
	return e.tok != nil && (e.expireAt.IsZero() || now.Before(e.expireAt))
}

type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// New returns an empty cache reading time from now (time.Now when nil).
func New(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{now: now, entries: map[Key]*entry{}}
}

// Get returns the token for key, calling fetch when there is none, when the
// cached one is due for refresh, or when it has expired.
//
// Concurrent callers for the same key share one fetch. While a due token is
// being refreshed, other callers keep receiving it as long as it is valid.
// When a refresh fails but the cached token is still valid, Get returns the
// cached token; an expired token is never returned. A failed fetch is not
// cached: the next call fetches again.
func (c *Cache) Get(ctx context.Context, key Key, fetch Fetch) (*oauth2.Token, error) {
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e == nil {
			e = &entry{}
			c.entries[key] = e
		}
		now := c.now()
		valid := e.usable(now)
		if valid && now.Before(e.refreshAt) {
			c.mu.Unlock()
			return e.tok, nil
		}
		if f := e.flight; f != nil {
			if valid {
				tok := e.tok
				c.mu.Unlock()
				return tok, nil
			}
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
				continue // the leader gave up; this caller still wants a token
			}
			return f.tok, f.err
		}
		f := &flight{done: make(chan struct{})}
		e.flight = f
		c.mu.Unlock()

		tok, err := c.run(ctx, e, f, fetch)

		c.mu.Lock()
		e.flight = nil
		if err == nil {
			e.tok = tok
			e.refreshAt, e.expireAt = schedule(tok, c.now())
		} else if e.usable(c.now()) {
			tok, err = e.tok, nil // the cached token is still good: keep serving it
		}
		f.tok, f.err = tok, err
		close(f.done)
		c.sweep(key)
		c.mu.Unlock()
		return tok, err
	}
}

// run calls fetch for the flight f; if fetch panics, the flight is ended
// with an error before the panic goes on, so that no waiter hangs. A fetch
// that returns neither a token nor an error is an error.
func (c *Cache) run(ctx context.Context, e *entry, f *flight, fetch Fetch) (tok *oauth2.Token, err error) {
	ok := false
	defer func() {
		if ok {
			return
		}
		c.mu.Lock()
		e.flight = nil
		f.err = errors.New("token fetch panicked")
		close(f.done)
		c.mu.Unlock()
	}()
	tok, err = fetch(ctx)
	ok = true
	if tok == nil && err == nil {
		err = errors.New("token fetch returned no token")
	}
	return tok, err
}

// Invalidate drops the cached token for key if it is still tok (so that a
// token refreshed meanwhile by another caller survives). Call it when the
// registry rejected tok.
func (c *Cache) Invalidate(key Key, tok *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && e.tok == tok {
		e.tok, e.expireAt = nil, time.Time{}
	}
}

// Fresh reports whether key holds a token that is valid and not yet due for
// refresh: a Get would return it without fetching.
func (c *Cache) Fresh(key Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	now := c.now()
	return e != nil && e.usable(now) && now.Before(e.refreshAt)
}

// Set stores tok, fetched now, under key, as a fetch would (a token that
// serves several keys, such as one token for several scopes). A fetch under
// way for key is not disturbed; its result replaces tok when it lands.
func (c *Cache) Set(key Key, tok *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		e = &entry{}
		c.entries[key] = e
	}
	e.tok = tok
	e.refreshAt, e.expireAt = schedule(tok, c.now())
	c.sweep(key)
}

// Peek returns the cached token for key if it is valid, without fetching.
func (c *Cache) Peek(key Key) (*oauth2.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && e.usable(c.now()) {
		return e.tok, true
	}
	return nil, false
}

// Len returns the number of entries, for tests and metrics.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// sweep removes expired entries other than keep once the map grows, so a
// long-lived cache over many repositories stays bounded by what is in use.
// It runs with c.mu held.
func (c *Cache) sweep(keep Key) {
	if len(c.entries) < 256 {
		return
	}
	now := c.now()
	for k, e := range c.entries {
		if k != keep && e.flight == nil && !e.usable(now) {
			delete(c.entries, k)
		}
	}
}

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

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
