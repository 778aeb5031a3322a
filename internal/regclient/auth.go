// Package regclient is the backend every built-in driver shares: it resolves
// manifest digests with one HEAD request in steady state, authenticates each
// request through an [Authorizer], retries once with a fresh token when the
// registry rejects a cached one, and maps every answer to a typed error.
package regclient

import (
	"context"
	"encoding/base64"
	"net/http"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/internal/tokenflow"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// Authorizer yields the token to send with a request for a repository (the
// full path on the registry, "molecule-ai/workspace-template-langgraph").
type Authorizer interface {
	// Token returns the token for repository; an empty AccessToken means
	// anonymous access.
	Token(ctx context.Context, repository string) (*oauth2.Token, error)
	// Invalidate forgets tok, which the registry rejected, so that the next
	// Token call fetches a new one.
	Invalidate(repository string, tok *oauth2.Token)
}

// CredentialFunc resolves the credential presented to the registry or its
// token service.
type CredentialFunc func(ctx context.Context) (authn.Credential, error)

// Flow authorizes requests the way the registry's /v2/ challenge says:
// Bearer through a token exchange (scoped per repository, or one token per
// host when Unscoped), Basic with the credential itself, and nothing when
// the registry needs no authentication. Tokens live in Cache.
type Flow struct {
	Host, Scheme string
	Client       *http.Client
	Options      *registry.Options
	Cache        *tokencache.Cache
	Credential   CredentialFunc
	// Challenge returns the registry's challenge: a fixed one for flavors
	// whose realm is known, or a probe done once (see [Probed]).
	Challenge func(ctx context.Context) (*registry.Challenge, error)
	// Unscoped makes one token serve every repository (Gitea ignores scopes).
	Unscoped bool
	// Identity distinguishes credentials sharing Cache.
	Identity string
	// Hint says how to fix an authentication failure.
	Hint string
	// Scope returns the token scope for repository; nil means
	// "repository:<repository>:pull".
	Scope func(repository string) string

	scopes sync.Map // repository -> scope, so a steady check builds no string
}

func (f *Flow) key(repository string) tokencache.Key {
	k := tokencache.Key{Host: f.Host, Identity: f.Identity}
	if !f.Unscoped {
		k.Scope = f.scope(repository)
	}
	return k
}

func (f *Flow) scope(repository string) string {
	if s, ok := f.scopes.Load(repository); ok {
		return s.(string)
	}
	s := "repository:" + repository + ":pull"
	if f.Scope != nil {
		s = f.Scope(repository)
	}
	f.scopes.Store(repository, s)
	return s
}

// Token implements Authorizer.
func (f *Flow) Token(ctx context.Context, repository string) (*oauth2.Token, error) {
	c, err := f.Challenge(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case c.IsBearer():
		return f.Cache.Get(ctx, f.key(repository), func(ctx context.Context) (*oauth2.Token, error) {
			cred, err := f.Credential(ctx)
			if err != nil {
				return nil, err
			}
			scopes := []string{f.scope(repository)}
			tok, err := tokenflow.Exchange(ctx, f.Client, f.Host, f.Scheme, c, cred, scopes, f.Options)
			return tok, withHint(err, f.Hint)
		})
	case c.IsBasic():
		return f.Cache.Get(ctx, tokencache.Key{Host: f.Host, Identity: f.Identity}, func(ctx context.Context) (*oauth2.Token, error) {
			cred, err := f.Credential(ctx)
			if err != nil {
				return nil, err
			}
			return BasicToken(cred), nil
		})
	default:
		return &oauth2.Token{}, nil
	}
}

// Invalidate implements Authorizer.
func (f *Flow) Invalidate(repository string, tok *oauth2.Token) {
	f.Cache.Invalidate(f.key(repository), tok)
	f.Cache.Invalidate(tokencache.Key{Host: f.Host, Identity: f.Identity}, tok)
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

// Fixed returns a Challenge function for a challenge known in advance.
func Fixed(c *registry.Challenge) func(context.Context) (*registry.Challenge, error) {
	return func(context.Context) (*registry.Challenge, error) { return c, nil }
}

// Probed returns a Challenge function that pings the registry on first use
// and remembers the answer; a failed ping is not remembered. Concurrent
// first callers share one ping, and each waits only as long as its own
// context allows. When seed is not nil (selection already probed), no ping
// is sent at all.
func Probed(client *http.Client, host, scheme string, seed *registry.Challenge) func(context.Context) (*registry.Challenge, error) {
	var (
		mu       sync.Mutex
		known    = seed
		inflight chan struct{}
	)
	return func(ctx context.Context) (*registry.Challenge, error) {
		for {
			mu.Lock()
			if known != nil {
				mu.Unlock()
				return known, nil
			}
			if wait := inflight; wait != nil {
				mu.Unlock()
				select {
				case <-wait:
					continue // answered, or failed: look again
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			done := make(chan struct{})
			inflight = done
			mu.Unlock()

			c, err := tokenflow.Ping(ctx, client, host, scheme)

			mu.Lock()
			if err == nil {
				known = c
			}
			inflight = nil
			close(done)
			mu.Unlock()
			return c, err
		}
	}
}

// withHint adds hint to an authentication error from the token service.
func withHint(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	if e, ok := err.(*registry.Error); ok && e.Hint == "" && (e.Kind == registry.ErrUnauthorized || e.Kind == registry.ErrDenied) {
		e.Hint = hint
	}
	return err
}
