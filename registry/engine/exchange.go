package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// defaultLifetime is the lifetime the distribution token spec assumes when a
// token response carries no expires_in.
const defaultLifetime = 60 * time.Second

// maxLifetime caps a token's lifetime, whatever expires_in or the JWT's exp
// claim says.
const maxLifetime = 24 * time.Hour

// exchange is one token request to a realm.
type exchange struct {
	client         *http.Client
	registryHost   string // the registry the token is for
	registryScheme string
	challenge      *registry.Challenge
	options        *registry.Options
	sameHostOnly   bool
	realmHosts     []string
}

// token trades cred for a bearer token covering scopes, following the
// distribution token spec: GET <realm>?service=…&scope=… with Basic
// credentials (or none), or, for a credential holding an identity token,
// POST grant_type=refresh_token (the OAuth2 form the spec describes). The
// realm must pass checkRealm first, and so must every redirect; nothing
// is sent to a refused one. A credential holding a RegistryToken is used as
// is.
//
// The expiry comes from expires_in, counted from the moment the request was
// sent (issued_at is ignored: it is the server's clock, and a token cannot
// have been issued before it was asked for, so the request time errs on the
// safe side); failing that, from the token's own JWT exp claim; failing
// that, DefaultLifetime; never more than MaxLifetime.
func (x exchange) token(ctx context.Context, cred authn.Credential, scopes []string) (*oauth2.Token, error) {
	host := x.registryHost
	realm := x.challenge.Params["realm"]
	if realm == "" {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: errors.New("bearer challenge without a realm")}
	}
	realmURL, err := checkRealm(realm, host, x.registryScheme, x.options, x.sameHostOnly, x.realmHosts...)
	if err != nil {
		return nil, err
	}
	start := x.options.Now().Now()
	if cred.RegistryToken != "" {
		return &oauth2.Token{AccessToken: cred.RegistryToken, TokenType: "Bearer", Expiry: tokenExpiry(cred.RegistryToken, 0, start)}, nil
	}
	ctx, cancel := withDeadline(ctx, x.options)
	defer cancel()
	req, err := x.request(ctx, realmURL, cred, scopes)
	if err != nil {
		return nil, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "token", Image: host, Err: err}
	}
	secrets := secretsOf(cred, "")
	resp, err := guarded(x.client, host, x.registryScheme, x.options, x.sameHostOnly, x.realmHosts).Do(req)
	if err != nil {
		return nil, scrubbed(transportError(err, "token", host), secrets)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, tokenAnswerError(resp, realmURL.Host, host, x.options.Now().Now(), secrets)
	}
	body, err := readBody(resp, maxTokenBody)
	if err != nil {
		return nil, tokenBodyError(err, realmURL.Host, host)
	}
	var tr struct {
		Token       string      `json:"token"`
		AccessToken string      `json:"access_token"`
		ExpiresIn   json.Number `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, tokenBodyError(nil, realmURL.Host, host)
	}
	tok := tr.Token
	if tok == "" {
		tok = tr.AccessToken
	}
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") || len(tok) > maxTokenBody/2 {
		return nil, tokenBodyError(nil, realmURL.Host, host)
	}
	secs, _ := tr.ExpiresIn.Float64()
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: tokenExpiry(tok, secs, start)}, nil
}

// request builds the token request.
func (x exchange) request(ctx context.Context, realm *url.URL, cred authn.Credential, scopes []string) (*http.Request, error) {
	service := x.challenge.Params["service"]
	if cred.IdentityToken != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cred.IdentityToken}, "client_id": {"registrykit"}}
		if service != "" {
			form.Set("service", service)
		}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, realm.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", userAgent(x.options))
		return req, nil
	}
	u := *realm
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent(x.options))
	if cred.Username != "" || cred.Password != "" {
		req.SetBasicAuth(cred.Username, cred.Password)
	}
	return req, nil
}

// tokenExpiry decides when a token stops being valid.
func tokenExpiry(tok string, expiresIn float64, requested time.Time) time.Time {
	var life time.Duration
	switch {
	case expiresIn > 0:
		life = time.Duration(min(expiresIn, maxLifetime.Seconds()) * float64(time.Second))
	default:
		if exp := jwtExpiry(tok, requested); !exp.IsZero() {
			return exp
		}
		life = defaultLifetime
	}
	return requested.Add(min(life, maxLifetime))
}

// jwtExpiry reads the "exp" claim of a JWT without verifying it, for
// caching only. It returns the zero time when tok is not a JWT or its exp is
// not in the future, and caps it at MaxLifetime from now.
func jwtExpiry(tok string, now time.Time) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs > float64(now.Add(maxLifetime).Unix()) {
		if err == nil {
			return now.Add(maxLifetime)
		}
		return time.Time{}
	}
	exp := time.Unix(int64(secs), 0)
	if !exp.After(now) {
		return time.Time{}
	}
	return exp
}

// scrubbed returns err with secrets scrubbed from its text parts.
func scrubbed(err error, secrets secretSet) error {
	var e *registry.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Detail = secrets.scrub(c.Detail)
	if c.Err != nil {
		c.Err = scrubbedError{msg: Sanitize(secrets.scrub(c.Err.Error())), cause: contextCause(c.Err)}
	}
	return &c
}

// scrubbedError is an error's scrubbed text; it unwraps to nothing of the
// original but its context error, so that errors.Is still tells a deadline
// from a refusal.
type scrubbedError struct {
	msg   string
	cause error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.cause }

// contextCause returns context.DeadlineExceeded or context.Canceled when err
// is one, else nil.
func contextCause(err error) error {
	for _, c := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
