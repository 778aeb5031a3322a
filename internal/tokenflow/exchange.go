package tokenflow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// MaxTokenResponse bounds a token service's response body.
const MaxTokenResponse = 1 << 20

// errTokenTooLarge ends the read of a token response past MaxTokenResponse.
var errTokenTooLarge = errors.New("token response exceeds 1 MiB")

// boundedTransport caps every response body it returns at MaxTokenResponse,
// so that a hostile token service cannot make the exchange read without
// end.
type boundedTransport struct{ inner http.RoundTripper }

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: MaxTokenResponse}
	return resp, nil
}

type boundedBody struct {
	io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTokenTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left <= 0 && err == nil {
		// Anything more is too much; a body of exactly the limit ends here.
		var one [1]byte
		if m, _ := b.ReadCloser.Read(one[:]); m > 0 {
			return n, errTokenTooLarge
		}
		return n, io.EOF
	}
	return n, err
}

// DefaultLifetime is the lifetime the distribution token spec assumes when a
// token response carries no expires_in.
const DefaultLifetime = 60 * time.Second

// Exchange trades cred for a bearer token covering scopes at the realm of
// the Bearer challenge c, which the registry at host (reached over scheme)
// announced. The realm is checked with [CheckRealm] first; nothing is sent
// to a refused realm. A credential holding a RegistryToken is used as is.
//
// The token's expiry comes from expires_in; failing that, from the token's
// own JWT "exp" claim (read for caching only, never trusted otherwise:
// Gitea's tokens live 24 h but say nothing); failing that, 60 s.
func Exchange(ctx context.Context, client *http.Client, host, scheme string, c *registry.Challenge, cred authn.Credential, scopes []string, o *registry.Options) (*oauth2.Token, error) {
	if !c.IsBearer() {
		return nil, &registry.Error{Kind: registry.ErrUnsupported, Op: "token", Image: host, Err: fmt.Errorf("challenge scheme %q is not Bearer", c.Scheme)}
	}
	realm, ok := c.Params["realm"]
	if !ok || realm == "" {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: errors.New("bearer challenge without a realm")}
	}
	realmURL, err := CheckRealm(realm, host, scheme, o)
	if err != nil {
		return nil, err
	}
	start := o.Now().Now()
	if cred.RegistryToken != "" {
		return &oauth2.Token{AccessToken: cred.RegistryToken, TokenType: "Bearer", Expiry: jwtExpiry(cred.RegistryToken, start)}, nil
	}
	reg, err := name.NewRegistry(host, name.WeakValidation)
	if err != nil {
		return nil, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "token", Image: host, Err: err}
	}
	var auth ggcrauthn.Authenticator = ggcrauthn.Anonymous
	if !cred.IsAnonymous() {
		auth = ggcrauthn.FromConfig(ggcrauthn.AuthConfig{Username: cred.Username, Password: cred.Password, IdentityToken: cred.IdentityToken})
	}
	params := make(map[string]string, len(c.Params))
	for k, v := range c.Params {
		params[k] = v
	}
	params["realm"] = realmURL.String()
	pr := &transport.Challenge{Scheme: "bearer", Parameters: params, Insecure: scheme == "http"}
	resp, err := transport.Exchange(ctx, reg, auth, boundedTransport{client.Transport}, scopes, pr)
	if err != nil {
		return nil, exchangeError(err, realmURL.Host, host, cred)
	}
	tok := resp.Token
	if tok == "" {
		tok = resp.AccessToken
	}
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: fmt.Errorf("token service %s returned no usable token", realmURL.Host)}
	}
	expiry := start.Add(DefaultLifetime)
	switch {
	case resp.ExpiresIn > 0:
		expiry = start.Add(time.Duration(resp.ExpiresIn) * time.Second)
	default:
		if exp := jwtExpiry(tok, start); !exp.IsZero() {
			expiry = exp
		}
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: expiry}, nil
}

// jwtExpiry reads the "exp" claim of a JWT without verifying it, for
// caching. It returns the zero time when tok is not a JWT or its exp is not
// in the future (relative to now) within a year.
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
	secs, err := claims.Exp.Int64()
	if err != nil {
		f, ferr := claims.Exp.Float64()
		if ferr != nil {
			return time.Time{}
		}
		secs = int64(f)
	}
	exp := time.Unix(secs, 0)
	if !exp.After(now) || exp.After(now.AddDate(1, 0, 0)) {
		return time.Time{}
	}
	return exp
}

// exchangeError maps a failed token exchange to a typed error naming the
// realm host, with any echo of the credential scrubbed from the text.
func exchangeError(err error, realmHost, host string, cred authn.Credential) error {
	e := &registry.Error{Op: "token", Image: host}
	var te *transport.Error
	switch {
	case errors.As(err, &te):
		e.StatusCode = te.StatusCode
		if len(te.Errors) > 0 {
			e.Code = string(te.Errors[0].Code)
			e.Detail = Scrub(te.Errors[0].Message, cred)
		}
		switch {
		case te.StatusCode == http.StatusUnauthorized:
			e.Kind = registry.ErrUnauthorized
		case te.StatusCode == http.StatusForbidden:
			e.Kind = registry.ErrDenied
		case te.StatusCode == http.StatusTooManyRequests:
			e.Kind = registry.ErrRateLimited
		case te.StatusCode == http.StatusNotFound:
			e.Kind = registry.ErrBadResponse
			e.Err = fmt.Errorf("token service %s has no such endpoint", realmHost)
		case te.StatusCode >= 500:
			e.Kind = registry.ErrUnavailable
			e.Err = fmt.Errorf("token service %s failed", realmHost)
		default:
			e.Kind = registry.ErrBadResponse
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Err = registry.ErrUnavailable, fmt.Errorf("token service %s: %w", realmHost, err)
	case errors.Is(err, errTokenTooLarge) || strings.Contains(err.Error(), errTokenTooLarge.Error()) || strings.Contains(err.Error(), "byte limit"):
		e.Kind, e.Err = registry.ErrTooLarge, fmt.Errorf("token service %s: response too large", realmHost)
	case isDecodeError(err):
		e.Kind, e.Err = registry.ErrBadResponse, fmt.Errorf("token service %s: malformed token response", realmHost)
	case strings.Contains(err.Error(), "no token in bearer response"):
		e.Kind, e.Err = registry.ErrBadResponse, fmt.Errorf("token service %s returned no token", realmHost)
	default:
		e.Kind, e.Err = registry.ErrUnavailable, fmt.Errorf("token service %s: %s", realmHost, Scrub(err.Error(), cred))
	}
	return e
}

func isDecodeError(err error) bool {
	var se *json.SyntaxError
	var ue *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &ue) || strings.Contains(err.Error(), "unexpected end of JSON")
}

// Scrub replaces every appearance of cred's secrets in s (raw, and as the
// base64 of "user:password") with REDACTED.
func Scrub(s string, cred authn.Credential) string {
	secrets := []string{cred.Password, cred.IdentityToken, cred.RegistryToken}
	if cred.Password != "" {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password)))
	}
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, authn.Redacted)
		}
	}
	return s
}
