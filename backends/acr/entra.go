package acr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
)

// nullUser is the user name that tells ACR the password is an ACR refresh
// token (Azure/acr, docs/AAD-OAuth.md, "Authenticating docker with an ACR
// refresh token").
const nullUser = "00000000-0000-0000-0000-000000000000"

// refreshLifetime is how long an ACR refresh token whose exp claim cannot
// be read is kept: Microsoft documents the token of az acr login
// --expose-token as valid for 3 hours (learn.microsoft.com,
// container-registry-authentication, "Az login with --expose-token").
const refreshLifetime = 3 * time.Hour

// unavailableFor is how long a backend does not ask Azure again after its
// credential chain found no identity (no Azure configuration on this
// machine): a registry used anonymously, or through Docker's config, does
// not pay for a managed-identity probe on every token request.
const unavailableFor = 5 * time.Minute

// entra obtains ACR refresh tokens for one registry: a Microsoft Entra ID
// access token exchanged at /oauth2/exchange, kept until ahead of the
// refresh token's expiry.
type entra struct {
	opts        *registry.Options
	cfg         Config
	host        string
	exchangeURL string
	scope       string
	log         *slog.Logger
	refresh     func(ctx context.Context) (*oauth2.Token, error)

	mu        sync.Mutex
	http      *http.Client // the exchange's, made once
	cred      azcore.TokenCredential
	noneUntil time.Time // Azure found no identity; not asked again before this
}

func newEntra(o *registry.Options, c Config, h, exchangeURL string) *entra {
	e := &entra{opts: o, cfg: c, host: h, exchangeURL: exchangeURL, scope: scopeFor(c.Scope, h), log: o.Log()}
	e.refresh = engine.Cached(o.Now().Now, e.fetch)
	return e
}

// withEntra returns generic's credential when it has one, else the ACR
// refresh token an Entra ID identity obtains, else anonymous access.
func withEntra(generic authn.Source, e *entra) authn.Source {
	return authn.SourceFunc(func(ctx context.Context, h string) (authn.Credential, error) {
		c, err := generic.Resolve(ctx, h)
		if err != nil && !errors.Is(err, authn.ErrNoCredential) {
			return c, err
		}
		if err == nil && !c.IsAnonymous() {
			return c, nil
		}
		ec, err := e.resolve(ctx)
		if errors.Is(err, authn.ErrNoCredential) {
			return authn.Credential{}, nil
		}
		return ec, err
	})
}

// resolve returns the credential presenting the cached ACR refresh token,
// or ErrNoCredential when Azure has no identity here.
func (e *entra) resolve(ctx context.Context) (authn.Credential, error) {
	e.mu.Lock()
	skip := e.opts.Now().Now().Before(e.noneUntil)
	e.mu.Unlock()
	if skip {
		return authn.Credential{}, authn.ErrNoCredential
	}
	tok, err := e.refresh(ctx)
	var none *unavailableError
	if errors.As(err, &none) {
		e.mu.Lock()
		e.noneUntil = e.opts.Now().Now().Add(unavailableFor)
		e.mu.Unlock()
		e.log.DebugContext(ctx, "no Azure identity found; using anonymous access", "registry", e.host, "reason", none.Error())
		return authn.Credential{}, authn.ErrNoCredential
	}
	if err != nil {
		return authn.Credential{}, err
	}
	// The engine presents an IdentityToken to the realm as
	// grant_type=refresh_token, as AAD-OAuth.md's "Calling POST
	// /oauth2/token" does; a Docker client given this credential logs in
	// with the null GUID and the refresh token.
	return authn.Credential{Username: nullUser, IdentityToken: tok.AccessToken}, nil
}

// unavailableError is Azure's answer that it found no identity to
// authenticate as.
type unavailableError struct{ err error }

func (u *unavailableError) Error() string { return u.err.Error() }
func (u *unavailableError) Unwrap() error { return u.err }

// fetch obtains a new ACR refresh token: an Entra ID access token for the
// registry's audience, exchanged at /oauth2/exchange.
func (e *entra) fetch(ctx context.Context) (*oauth2.Token, error) {
	cred, err := e.credential()
	if err != nil {
		return nil, &unavailableError{err}
	}
	at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{e.scope}})
	if err != nil {
		var failed *azidentity.AuthenticationFailedError
		if errors.As(err, &failed) || ctx.Err() != nil {
			return nil, fmt.Errorf("microsoft Entra ID token for %s (scope %s): %w", e.host, e.scope, err)
		}
		return nil, &unavailableError{err}
	}
	start := e.opts.Now().Now()
	rt, err := e.exchange(ctx, at.Token, readClaims(at.Token).Tenant)
	if err != nil {
		return nil, err
	}
	exp := readClaims(rt).expiry(start)
	if exp.IsZero() {
		exp = start.Add(refreshLifetime)
	}
	e.log.DebugContext(ctx, "ACR refresh token", "registry", e.host, "expires", exp)
	return &oauth2.Token{AccessToken: rt, Expiry: exp}, nil
}

// credential returns the Entra ID credential, built on first use.
func (e *entra) credential() (azcore.TokenCredential, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cred != nil {
		return e.cred, nil
	}
	if e.cfg.Credential != nil {
		e.cred = e.cfg.Credential
		return e.cred, nil
	}
	var opts azidentity.DefaultAzureCredentialOptions
	if e.opts.HTTPClient != nil {
		opts.ClientOptions.Transport = e.opts.HTTPClient
	}
	cred, err := azidentity.NewDefaultAzureCredential(&opts)
	if err != nil {
		return nil, err
	}
	e.cred = cred
	return cred, nil
}

// client is the HTTP client of the exchange: the caller's, or a default
// one, that never follows a redirect (the Entra ID token goes to the
// registry and nowhere else).
func (e *entra) client() *http.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.http != nil {
		return e.http
	}
	c := http.Client{Timeout: e.opts.Timeout()}
	if e.opts.HTTPClient != nil {
		c = *e.opts.HTTPClient
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if e.opts.ConfigureTransport != nil {
			e.opts.ConfigureTransport(t)
		}
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.http = &c // one pool for the backend's exchanges, not one per exchange
	return e.http
}
