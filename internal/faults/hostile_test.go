package faults

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/internal/faultinject"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/fakedns"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Docker-config identity token is POSTed as refresh_token to the realm. A
// realm that answers 307 or 308 to another host gets the body re-sent by
// nothing: the request is refused, and the other host receives nothing.
func TestIdentityTokenIsNeverRedirectedToAnotherHost(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			dns, err := fakedns.New()
			require.NoError(t, err)
			defer dns.Close()
			var stolen atomic.Int32
			_, err = dns.Serve("evil.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				stolen.Add(1)
			}))
			require.NoError(t, err)
			var posts atomic.Int32
			_, err = dns.Serve("registry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/token":
					posts.Add(1)
					body, _ := io.ReadAll(r.Body)
					assert.Contains(t, string(body), "refresh_token=identity-token-5ecret")
					http.Redirect(w, r, "https://evil.test/token", status)
				default:
					w.Header().Set("WWW-Authenticate", `Bearer realm="https://registry.test/token",service="registry.test"`)
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			require.NoError(t, err)
			tr := dns.Transport()
			defer tr.CloseIdleConnections()
			b, err := openWith(t, "registry.test/org", tr, func(o *registry.Options) {
				o.Credentials = authn.Static(authn.Credential{IdentityToken: "identity-token-5ecret"})
			})
			require.NoError(t, err)
			_, err = b.ManifestDigest(context.Background(), "app", "latest")
			require.ErrorIs(t, err, registry.ErrInsecure)
			assert.Equal(t, int32(1), posts.Load(), "the identity token went to the realm only")
			assert.Zero(t, stolen.Load(), "nothing reached the other host")
			assert.NotContains(t, err.Error(), "identity-token-5ecret")
		})
	}
}

// A token request redirected to a private address, a loopback port that is
// not the registry, or plain http, is refused by the realm rule, as an
// announced realm would be.
func TestTokenRedirectsMeetTheRealmRule(t *testing.T) {
	for name, target := range map[string]string{
		"metadata":    "https://169.254.169.254/latest/meta-data/",
		"hex private": "https://0x0a000001/token",
		"NAT64":       "https://[64:ff9b::a9fe:a9fe]/token",
		"downgrade":   "http://auth.test/token",
	} {
		t.Run(name, func(t *testing.T) {
			dns, err := fakedns.New()
			require.NoError(t, err)
			defer dns.Close()
			var tokenCalls atomic.Int32
			_, err = dns.Serve("registry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					tokenCalls.Add(1)
					http.Redirect(w, r, target, http.StatusFound)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="https://registry.test/token",service="registry.test"`)
				w.WriteHeader(http.StatusUnauthorized)
			}))
			require.NoError(t, err)
			tr := dns.Transport()
			defer tr.CloseIdleConnections()
			b, err := openWith(t, "registry.test/org", tr)
			require.NoError(t, err)
			_, err = b.ManifestDigest(context.Background(), "app", "latest")
			require.ErrorIs(t, err, registry.ErrInsecure, target)
			assert.Equal(t, int32(1), tokenCalls.Load())
			assert.NotContains(t, err.Error(), password)
		})
	}
}

// The /v2/ probe follows no redirect off the registry's host.
func TestProbeRedirectOffTheHostIsRefused(t *testing.T) {
	dns, err := fakedns.New()
	require.NoError(t, err)
	defer dns.Close()
	var other atomic.Int32
	_, err = dns.Serve("other.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	require.NoError(t, err)
	_, err = dns.Serve("registry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.test/v2/", http.StatusFound)
	}))
	require.NoError(t, err)
	tr := dns.Transport()
	defer tr.CloseIdleConnections()
	b, err := openWith(t, "registry.test/org", tr)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrInsecure)
	assert.Zero(t, other.Load())
}

// A registry whose /v2/ is open but whose repositories answer 401 with a
// challenge: the engine adopts the challenge and authenticates.
func TestChallengeFirstMetOnARepository(t *testing.T) {
	inner := registrytest.NewServer(registrytest.Config{Mode: registrytest.Basic, Users: map[string]string{user: password}})
	defer inner.Close()
	img, _ := random.Image(32, 1)
	want, err := inner.Push("org/app", "latest", img)
	require.NoError(t, err)
	var pings atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			pings.Add(1)
			w.WriteHeader(http.StatusOK) // open at the root
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, inner.URL()+r.URL.Path, nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer front.Close()
	b, err := openWith(t, strings.TrimPrefix(front.URL, "http://")+"/org", http.DefaultTransport)
	require.NoError(t, err)
	for range 2 {
		d, err := b.ManifestDigest(context.Background(), "app", "latest")
		require.NoError(t, err)
		assert.Equal(t, want.String(), d)
	}
	assert.Equal(t, int32(1), pings.Load())
	assert.Equal(t, int64(3), inner.Counts().Head, "one anonymous HEAD met the challenge, then one HEAD per check")
}

// A GET fallback counts a body's digest only if the body is a manifest or
// index: a captive portal's HTML page or an empty body is a bad response.
func TestGETFallbackRefusesWhatIsNotAManifest(t *testing.T) {
	for name, fault := range map[string]faultinject.Fault{
		"html":      faultinject.Body([]byte("<html><body>Sign in to the Wi-Fi</body></html>"), "Content-Type", "text/html"),
		"empty":     faultinject.Body(nil, "Content-Type", "application/vnd.oci.image.index.v1+json"),
		"json":      faultinject.Body([]byte(`{"hello":"world"}`), "Content-Type", "application/json"),
		"schema v1": faultinject.Body([]byte(`{"schemaVersion":1,"name":"x"}`), "Content-Type", "application/vnd.docker.distribution.manifest.v1+json"),
	} {
		t.Run(name, func(t *testing.T) {
			h := setup(t, driver{"basic", registrytest.Basic, registry.FlavorUnknown, false})
			h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusMethodNotAllowed))
			h.faults.Add(func(r *http.Request) bool {
				return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
			}, -1, fault)
			_, err := h.check(context.Background())
			require.ErrorIs(t, err, registry.ErrBadResponse)
			assert.Contains(t, err.Error(), "not an image manifest or index")
		})
	}
}

// Secrets a hostile registry echoes back — the Authorization header in
// every form — never reach an error.
func TestEchoedSecretsAreScrubbed(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	for name, echo := range map[string]string{
		"raw":          password,
		"basic header": "Basic " + basic,
		"upper":        strings.ToUpper(password),
		"url-encoded":  strings.ReplaceAll(password, "-", "%2D"),
		"raw base64":   base64.RawURLEncoding.EncodeToString([]byte(user + ":" + password)),
	} {
		t.Run(name, func(t *testing.T) {
			h := setup(t, driver{"ghcr", registrytest.GHCR, registry.FlavorGHCR, true})
			body := []byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad credential ` + echo + `\u001b[31m"}]}`)
			h.faults.Add(faultinject.Tokens, -1, func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write(body)
				return true
			})
			_, err := h.check(context.Background())
			require.ErrorIs(t, err, registry.ErrUnauthorized)
			assert.NotContains(t, err.Error(), password)
			assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(password))
			assert.NotContains(t, err.Error(), basic)
			assert.NotContains(t, err.Error(), "\x1b", "terminal escapes are stripped")
		})
	}
}

// An 8 MB WWW-Authenticate does not make an 8 MB error.
func TestHugeChallengeIsBounded(t *testing.T) {
	h := setup(t, driver{"basic", registrytest.Basic, registry.FlavorUnknown, false})
	huge := "Negotiate " + strings.Repeat("x", 8<<20)
	h.faults.Add(faultinject.Pings, -1, faultinject.Status(http.StatusUnauthorized, "WWW-Authenticate", huge))
	_, err := h.check(context.Background())
	require.ErrorIs(t, err, registry.ErrUnsupported)
	assert.Less(t, len(err.Error()), 1000)
}

// A server that never answers, and a caller without a deadline: the
// operation ends at the request timeout, and the shared token fetch does
// not wedge the repository once the server recovers.
func TestNoCallerDeadlineStillEnds(t *testing.T) {
	h := setup(t, driver{"ghcr", registrytest.GHCR, registry.FlavorGHCR, true}, func(o *registry.Options) {
		o.RequestTimeout, o.MaxTries = 300*time.Millisecond, 1
	})
	h.faults.Add(faultinject.Tokens, 1, faultinject.Stall())
	_, err := h.check(context.Background())
	require.ErrorIs(t, err, registry.ErrUnavailable)
	d, err := h.check(context.Background())
	require.NoError(t, err, "the next check fetches a token again")
	assert.Equal(t, h.digest, d)
}

// Expiry claims are capped: a token service saying 100 years is asked again
// within a day.
func TestLifetimeClaimsAreCapped(t *testing.T) {
	for name, body := range map[string]string{
		"expires_in": `{"token":"long-lived-token","expires_in":3153600000}`,
		"jwt exp":    `{"token":"e30.` + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":9999999999}`)) + `.c2ln"}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := setup(t, driver{"ghcr", registrytest.GHCR, registry.FlavorGHCR, true})
			h.faults.Add(faultinject.Tokens, -1, faultinject.Body([]byte(body), "Content-Type", "application/json"))
			tok, err := h.backend.Token(context.Background(), "app")
			require.NoError(t, err)
			assert.Equal(t, h.clock.Now().Add(24*time.Hour), tok.Expiry)
		})
	}
}

// A registry whose error body echoes the Authorization it received (Basic,
// Bearer, ECR's Basic AWS password) gets none of it into the error.
func TestEchoedAuthorizationIsScrubbed(t *testing.T) {
	for _, d := range []driver{drivers[0], drivers[3], drivers[4]} {
		t.Run(d.name, func(t *testing.T) {
			h := setup(t, d)
			var sent atomic.Value
			h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusMethodNotAllowed))
			h.faults.Add(func(r *http.Request) bool {
				return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
			}, -1,
				func(w http.ResponseWriter, r *http.Request) bool {
					auth := r.Header.Get("Authorization")
					sent.Store(auth)
					_, cred, _ := strings.Cut(auth, " ")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusNotAcceptable)
					_, _ = fmt.Fprintf(w, `{"errors":[{"code":"BAD %s","message":"you sent %s (%s)"}]}`, cred, auth, strings.ToLower(cred))
					return true
				})
			_, err := h.check(context.Background())
			require.ErrorIs(t, err, registry.ErrBadResponse)
			auth, _ := sent.Load().(string)
			require.NotEmpty(t, auth)
			_, cred, _ := strings.Cut(auth, " ")
			assert.NotContains(t, err.Error(), cred)
			assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(cred))
			assert.Contains(t, err.Error(), authn.Redacted)
		})
	}
}
