package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stub answers /v2/ with a challenge and the token endpoint with a body.
type stub struct {
	challenge []string
	tokenBody []byte
	status    int
	requests  []*http.Request
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.requests = append(s.requests, r)
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r, Body: io.NopCloser(strings.NewReader(""))}
	switch {
	case r.URL.Path == "/v2/":
		if len(s.challenge) > 0 {
			resp.StatusCode = http.StatusUnauthorized
			resp.Header["Www-Authenticate"] = s.challenge
		}
	default:
		if s.status != 0 {
			resp.StatusCode = s.status
		}
		resp.Body = io.NopCloser(strings.NewReader(string(s.tokenBody)))
	}
	return resp, nil
}

func TestPingPrefersBearer(t *testing.T) {
	for _, order := range [][]string{
		{`Basic realm="Gitea Container Registry"`, `Bearer realm="https://git.example.com/v2/token",service="container_registry",scope="*"`},
		{`Bearer realm="https://git.example.com/v2/token",service="container_registry",scope="*"`, `Basic realm="Gitea Container Registry"`},
	} {
		s := &stub{challenge: order}
		c, err := ping(context.Background(), &http.Client{Transport: s}, "git.example.com", "https", &registry.Options{})
		require.NoError(t, err)
		assert.Equal(t, "Bearer", c.Scheme)
		assert.Equal(t, "container_registry", c.Params["service"])
		assert.Equal(t, "https", s.requests[0].URL.Scheme)
	}
	c, err := ping(context.Background(), &http.Client{Transport: &stub{}}, "127.0.0.1:5000", "http", &registry.Options{})
	require.NoError(t, err)
	assert.Equal(t, "", c.Scheme, "an open registry")
	assert.True(t, c.Insecure)
}

func TestCheckRealm(t *testing.T) {
	o := &registry.Options{}
	cases := []struct {
		realm, host, scheme string
		ok                  bool
	}{
		{"https://ghcr.io/token", "ghcr.io", "https", true},
		{"https://auth.docker.io/token", "registry-1.docker.io", "https", true},
		{"http://127.0.0.1:5000/token", "127.0.0.1:5000", "http", true},
		{"https://ghcr.io:443/token", "ghcr.io", "https", true},
		{"http://127.0.0.1:5001/token", "127.0.0.1:5000", "http", false},
		{"http://localhost:5000/token", "127.0.0.1:5000", "http", true},
		{"http://[::1]:5000/token", "localhost:5000", "http", true},
		{"http://localhost:5001/token", "127.0.0.1:5000", "http", false},
		{"http://auth.example/token", "127.0.0.1:5000", "http", false},
		{"http://ghcr.io/token", "ghcr.io", "https", false},
		{"https://169.254.169.254/", "ghcr.io", "https", false},
		{"https://10.1.2.3/token", "ghcr.io", "https", false},
		{"https://[fe80::1]/token", "ghcr.io", "https", false},
		{"https://0.0.0.0/token", "ghcr.io", "https", false},
		{"ftp://ghcr.io/token", "ghcr.io", "https", false},
		{"https://user:pw@ghcr.io/token", "ghcr.io", "https", false},
		{"/token", "ghcr.io", "https", false},
		{"::", "ghcr.io", "https", false},
		// Trailing dots and case are the same host.
		{"https://GHCR.IO./token", "ghcr.io", "https", true},
		// ... but "localhost." misses /etc/hosts and goes to DNS (and to an
		// HTTP proxy, which exempts only localhost), and "127.0.0.1." is not an
		// address to the dialer.
		{"http://localhost.:5000/token", "127.0.0.1:5000", "http", false},
		{"http://127.0.0.1.:5000/token", "localhost:5000", "http", false},
		// Another loopback address is another listener.
		{"http://127.0.0.2:5000/token", "127.0.0.1:5000", "http", false},
		// /etc/hosts aliases of loopback, and the protocol-assignment range.
		{"https://localhost.localdomain/t", "reg.example.com", "https", false},
		{"https://ip6-localhost/t", "reg.example.com", "https", false},
		{"https://192.0.0.192/t", "reg.example.com", "https", false},
		// A name under .localhost is resolved by DNS: never a loopback alias.
		{"http://auth.localhost:5000/token", "127.0.0.1:5000", "http", false},
		{"http://k3d-registry.localhost:5000/token", "127.0.0.1:5000", "http", false},
		// Every spelling of a loopback, private or metadata address.
		{"https://2130706433/token", "ghcr.io", "https", false}, // 127.0.0.1 in decimal
		{"https://0x7f.1/token", "ghcr.io", "https", false},     // 127.0.0.1 in hex, short
		{"https://0177.0.0.1/token", "ghcr.io", "https", false}, // octal
		{"https://0xa9fea9fe/token", "ghcr.io", "https", false}, // 169.254.169.254
		{"https://[::ffff:169.254.169.254]/token", "ghcr.io", "https", false},
		{"https://[::169.254.169.254]/token", "ghcr.io", "https", false},           // IPv4-compatible
		{"https://[64:ff9b::a9fe:a9fe]/token", "ghcr.io", "https", false},          // NAT64 of the metadata address
		{"https://[64:ff9b::7f00:1]/token", "ghcr.io", "https", false},             // NAT64 of loopback
		{"https://[::ffff:10.0.0.1]/token", "ghcr.io", "https", false},             // mapped private
		{"https://100.64.1.1/token", "ghcr.io", "https", false},                    // shared address space
		{"https://[::ffff:127.0.0.1]:5000/token", "127.0.0.1:5000", "https", true}, // the registry itself
		// What Go's transport would rewrite or dial as given: fullwidth
		// digits and letters (IDNA), percent-encoding, IPv6 zones.
		{"https://１２７.０.０.１:8443/t", "reg.example.com", "https", false},
		{"https://%EF%BC%91%EF%BC%90.0.0.5/t", "reg.example.com", "https", false},
		{"https://ｌｏｃａｌｈｏｓｔ:8443/t", "reg.example.com", "https", false},
		{"https://[::1%25lo]:8443/t", "reg.example.com", "https", false},
		{"https://[fe80::1%25eth0]/t", "reg.example.com", "https", false},
		{"https://[fd00::1%25eth0]/t", "reg.example.com", "https", false},
		{"https://[fec0::1]/t", "reg.example.com", "https", false},
		{"https://255.255.255.255/t", "reg.example.com", "https", false},
		{"https://auth.localhost/t", "reg.example.com", "https", false},
		// Numeric spellings Go's dialer sends to DNS are never the loopback
		// registry's own host, and NAT64 or IPv4-compatible forms of
		// 127.0.0.1 are dialed off this machine (issue 22, items 1 and 2).
		{"http://0x7f.0.0.1:5000/token", "127.0.0.1:5000", "http", false},
		{"http://0x7f.1:5000/token", "127.0.0.1:5000", "http", false},
		{"http://0x7f000001:5000/token", "localhost:5000", "http", false},
		{"http://0X7F.0.0.1:5000/token", "127.0.0.1:5000", "http", false},
		{"http://127.1:5000/token", "127.0.0.1:5000", "http", false},
		{"http://[64:ff9b::7f00:1]:5000/token", "127.0.0.1:5000", "http", false},
		{"http://[::7f00:1]:5000/token", "127.0.0.1:5000", "http", false},
		// IPv6 embeddings of the metadata address (item 6).
		{"https://[::ffff:0:a9fe:a9fe]/token", "ghcr.io", "https", false},   // SIIT
		{"https://[64:ff9b:1::a9fe:a9fe]/token", "ghcr.io", "https", false}, // local-use NAT64
		{"https://[2002:a9fe:a9fe::1]/token", "ghcr.io", "https", false},    // 6to4
	}
	for _, tc := range cases {
		_, err := checkRealm(tc.realm, tc.host, tc.scheme, o, false)
		if tc.ok {
			assert.NoError(t, err, tc.realm)
			continue
		}
		assert.ErrorIs(t, err, registry.ErrInsecure, tc.realm)
		assert.NotContains(t, fmt.Sprint(err), "pw@", "no userinfo echoed")
	}
	_, err := checkRealm("http://auth.lan/token", "127.0.0.1:5000", "http", &registry.Options{InsecureHosts: []string{"auth.lan"}}, false)
	assert.NoError(t, err, "an operator-listed host may be plain http")
}

func jwt(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(claims)) + ".sig"
}

func TestTokenLifetime(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	clock := registrytest.NewClock(now)
	o := &registry.Options{Clock: clock}
	c := knownChallenge("https://reg.example/token", "reg.example", false)
	cases := []struct {
		body string
		want time.Duration
	}{
		{`{"token":"opaque","expires_in":300}`, 300 * time.Second},
		{`{"access_token":"opaque","expires_in":120}`, 120 * time.Second},
		{`{"token":"opaque"}`, defaultLifetime},
		{`{"token":"` + jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(24*time.Hour).Unix())) + `"}`, 24 * time.Hour},
		{`{"token":"` + jwt(fmt.Sprintf(`{"exp":%d.5}`, now.Add(time.Hour).Unix())) + `"}`, time.Hour},
		{`{"token":"` + jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(-time.Hour).Unix())) + `"}`, defaultLifetime},
		{`{"token":"` + jwt(`{"exp":"soon"}`) + `"}`, defaultLifetime},
		// Lifetimes are capped the same way, whoever states them.
		{`{"token":"` + jwt(fmt.Sprintf(`{"exp":%d}`, now.AddDate(2, 0, 0).Unix())) + `"}`, maxLifetime},
		{`{"token":"opaque","expires_in":3153600000}`, maxLifetime},
		{`{"token":"opaque","expires_in":1e300}`, maxLifetime},
		{`{"token":"opaque","expires_in":-5}`, defaultLifetime},
		{`{"token":"opaque","expires_in":"300"}`, 300 * time.Second}, // a quoted number reads as one
	}
	for _, tc := range cases {
		s := &stub{tokenBody: []byte(tc.body)}
		tok, err := Exchange(context.Background(), &http.Client{Transport: s}, "reg.example", "https", c, authn.Credential{}, []string{"repository:a:pull"}, o)
		require.NoError(t, err, tc.body)
		assert.Equal(t, now.Add(tc.want), tok.Expiry, tc.body)
		assert.Equal(t, "Bearer", tok.TokenType)
	}
}

func TestExchangeSendsCredentialsToTheRealmOnly(t *testing.T) {
	s := &stub{tokenBody: []byte(`{"token":"t"}`)}
	c := knownChallenge("https://auth.example/token", "reg", false)
	_, err := Exchange(context.Background(), &http.Client{Transport: s}, "reg.example", "https", c, authn.Credential{Username: "u", Password: "p"}, []string{"repository:a:pull"}, &registry.Options{})
	require.NoError(t, err)
	require.Len(t, s.requests, 1)
	r := s.requests[0]
	assert.Equal(t, "auth.example", r.URL.Host)
	assert.Equal(t, "reg", r.URL.Query().Get("service"))
	assert.Equal(t, "repository:a:pull", r.URL.Query().Get("scope"))
	u, p, ok := r.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "u", u)
	assert.Equal(t, "p", p)
}

func TestExchangeErrorsAreScrubbed(t *testing.T) {
	cred := authn.Credential{Username: "u", Password: "hunter2-secret"}
	echo := base64.StdEncoding.EncodeToString([]byte("u:hunter2-secret"))
	s := &stub{status: http.StatusUnauthorized, tokenBody: []byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad Basic ` + echo + ` (hunter2-secret)"}]}`)}
	c := knownChallenge("https://reg.example/token", "reg.example", false)
	_, err := Exchange(context.Background(), &http.Client{Transport: s}, "reg.example", "https", c, cred, nil, &registry.Options{})
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "hunter2-secret")
	assert.NotContains(t, err.Error(), echo)
	assert.Contains(t, err.Error(), authn.Redacted)
}

func TestRegistryTokenCredentialIsUsedAsIs(t *testing.T) {
	s := &stub{}
	c := knownChallenge("https://reg.example/token", "reg.example", false)
	tok, err := Exchange(context.Background(), &http.Client{Transport: s}, "reg.example", "https", c, authn.Credential{RegistryToken: "preissued"}, nil, &registry.Options{})
	require.NoError(t, err)
	assert.Equal(t, "preissued", tok.AccessToken)
	assert.Empty(t, s.requests)
}

// Exchange runs one token exchange as the engine does.
func Exchange(ctx context.Context, client *http.Client, host, scheme string, c *registry.Challenge, cred authn.Credential, scopes []string, o *registry.Options) (*oauth2.Token, error) {
	return exchange{client: client, registryHost: host, registryScheme: scheme, challenge: c, options: o}.token(ctx, cred, scopes)
}
