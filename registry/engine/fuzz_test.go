package engine

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// FuzzChallenge feeds arbitrary WWW-Authenticate headers through the probe
// and, for a Bearer challenge, the realm policy and token exchange, as the
// drivers use them: nothing panics, the scheme is one registrykit speaks,
// and a token is only ever requested from a realm the policy accepted.
func FuzzChallenge(f *testing.F) {
	for _, h := range []string{
		`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"`,
		`Bearer realm="http://127.0.0.1:5000/v2/token",service="container_registry",scope="*"`,
		`Basic realm="registry"`, `Bearer realm="`, `Bearer`, `,,=`, `Negotiate`, `Bearer realm="ftp://x/"`,
		`Bearer realm="https://169.254.169.254/",service=x`, `bEaReR ReAlM="https://a.example/t"`,
	} {
		f.Add(h, "127.0.0.1:5000", "http")
		f.Add(h, "ghcr.io", "https")
	}
	f.Fuzz(func(t *testing.T, header, host, scheme string) {
		if scheme != "http" {
			scheme = "https"
		}
		s := &stub{challenge: []string{header}, tokenBody: []byte(`{"token":"t","expires_in":60}`)}
		client := &http.Client{Transport: s}
		c, err := ping(context.Background(), client, host, scheme, &registry.Options{})
		if err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if c.Scheme != "" && c.Scheme != "Bearer" && c.Scheme != "Basic" {
			t.Fatalf("scheme %q", c.Scheme)
		}
		if !c.IsBearer() {
			return
		}
		before := len(s.requests)
		_, err = Exchange(context.Background(), client, host, scheme, c, authn.Credential{Username: "u", Password: "p"}, []string{"repository:a:pull"}, &registry.Options{})
		if len(s.requests) > before {
			sent := s.requests[len(s.requests)-1].URL
			if _, perr := checkRealm(c.Params["realm"], host, scheme, &registry.Options{}, false); perr != nil {
				t.Fatalf("sent a token request to %s although the realm is refused: %v", sent, perr)
			}
		}
		if err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

// FuzzTokenResponse feeds arbitrary token-service bodies to the exchange:
// nothing panics, failures are typed, and a success is a usable token with
// an expiry after the request.
func FuzzTokenResponse(f *testing.F) {
	for _, b := range []string{
		`{"token":"abc","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}`, `{"access_token":"x"}`, `{"token":""}`,
		`{"token":42}`, `{`, `null`, `[]`, `{"token":"a.eyJleHAiOjk5OTk5OTk5OTl9.c"}`, `{"token":"a b"}`,
		`{"token":"t","expires_in":-5}`, `{"token":"t","expires_in":1e30}`,
	} {
		f.Add([]byte(b), 200)
	}
	f.Add([]byte(`{"errors":[{"code":"DENIED","message":"no"}]}`), 403)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		if status < 100 || status > 599 {
			status = 200
		}
		s := &stub{tokenBody: body, status: status}
		c := knownChallenge("https://reg.example/token", "reg.example", false)
		o := &registry.Options{}
		start := o.Now().Now()
		tok, err := Exchange(context.Background(), &http.Client{Transport: s}, "reg.example", "https", c, authn.Credential{Username: "u", Password: "p"}, []string{"repository:a:pull"}, o)
		if err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if tok.AccessToken == "" || strings.ContainsAny(tok.AccessToken, " \t\r\n") {
			t.Fatalf("unusable token %q accepted", tok.AccessToken)
		}
		if !tok.Expiry.After(start) {
			t.Fatalf("expiry %v not after %v", tok.Expiry, start)
		}
		if tok.Expiry.After(o.Now().Now().Add(maxLifetime)) {
			t.Fatalf("expiry %v beyond the %v cap", tok.Expiry, maxLifetime)
		}
	})
}
