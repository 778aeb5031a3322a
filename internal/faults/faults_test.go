package faults

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/internal/faultinject"

	"github.com/molecule-ai/registrykit/internal/fakedns"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func forEach(t *testing.T, ds []driver, f func(t *testing.T, d driver)) {
	for _, d := range ds {
		t.Run(d.name, func(t *testing.T) { f(t, d) })
	}
}

func TestRateLimitedThenServed(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		for name, retryAfter := range map[string]func(h *harness) string{
			"seconds":   func(*harness) string { return "2" },
			"HTTP date": func(h *harness) string { return h.clock.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) },
		} {
			t.Run(name, func(t *testing.T) {
				h := setup(t, d)
				h.faults.Add(faultinject.Heads, 1, faultinject.Status(http.StatusTooManyRequests, "Retry-After", retryAfter(h)))
				got, err := h.check(context.Background())
				require.NoError(t, err)
				assert.Equal(t, h.digest, got)
				slept := h.clock.Slept()
				require.NotEmpty(t, slept)
				assert.GreaterOrEqual(t, slept[len(slept)-1], 2*time.Second, "waited as asked")
			})
		}
	})
}

func TestRateLimitedPastTheDeadline(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		h := setup(t, d)
		h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusTooManyRequests, "Retry-After", "20"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := h.check(ctx)
		require.ErrorIs(t, err, registry.ErrRateLimited)
		var e *registry.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 20*time.Second, e.RetryAfter)

		h.faults.Clear()
		h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusTooManyRequests, "Retry-After", "3600"))
		_, err = h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrRateLimited, "a wait over the bound is left to the caller")
		require.ErrorAs(t, err, &e)
		assert.Equal(t, time.Hour, e.RetryAfter)
	})
}

func TestServerErrors(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		for _, code := range []int{500, 502, 503, 504} {
			h := setup(t, d)
			h.faults.Add(faultinject.Heads, 2, faultinject.Status(code))
			got, err := h.check(context.Background())
			require.NoError(t, err, code)
			assert.Equal(t, h.digest, got)
			assert.Len(t, h.clock.Slept(), 2, "two back-offs")
			for i, s := range h.clock.Slept() {
				assert.Positive(t, s, "back-off %d", i)
			}
		}
		h := setup(t, d)
		h.faults.Add(faultinject.Heads, 3, faultinject.Status(http.StatusServiceUnavailable))
		_, err := h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrUnavailable, "a third failure is a typed error")
		var re *registry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
	})
}

func TestConnectionReset(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		h := setup(t, d)
		h.faults.Add(faultinject.Heads, 1, faultinject.Reset())
		got, err := h.check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, h.digest, got)

		// Every attempt reset (net/http itself retries a reused connection
		// once, so a fixed count would not exhaust the tries).
		h.faults.Add(faultinject.Heads, -1, faultinject.Reset())
		_, err = h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrUnavailable)
	})
}

func TestStallEndsWithTheDeadline(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		h := setup(t, d)
		_, err := h.check(context.Background()) // warm up: tokens cached
		require.NoError(t, err)
		h.faults.Add(faultinject.Heads, -1, faultinject.Stall())
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err = h.check(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, registry.ErrUnavailable)
	})
}

func TestTokenEndpointDown(t *testing.T) {
	forEach(t, bearerDrivers(), func(t *testing.T, d driver) {
		h := setup(t, d)
		_, err := h.check(context.Background())
		require.NoError(t, err)
		h.faults.Add(faultinject.Tokens, -1, faultinject.Status(http.StatusServiceUnavailable))

		for range 3 {
			got, err := h.check(context.Background())
			require.NoError(t, err, "the cached token still serves")
			assert.Equal(t, h.digest, got)
		}
		// Into the refresh window: the refresh fails, the valid token serves.
		tok, err := h.backend.Token(context.Background(), "app")
		require.NoError(t, err)
		h.clock.Advance(tok.Expiry.Sub(h.clock.Now()) - 10*time.Second)
		_, err = h.check(context.Background())
		require.NoError(t, err)

		// A new backend has no token to fall back on.
		fresh := setup(t, d)
		fresh.faults.Add(faultinject.Tokens, -1, faultinject.Status(http.StatusServiceUnavailable))
		_, err = fresh.check(context.Background())
		require.ErrorIs(t, err, registry.ErrUnavailable)
		assert.Contains(t, err.Error(), fresh.srv.Host(), "names the realm host")
	})
}

func TestRevokedTokenRefetchedOnce(t *testing.T) {
	forEach(t, bearerDrivers(), func(t *testing.T, d driver) {
		h := setup(t, d)
		_, err := h.check(context.Background())
		require.NoError(t, err)
		h.srv.RevokeTokens()
		h.srv.ResetCounts()
		got, err := h.check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, h.digest, got)
		c := h.srv.Counts()
		assert.Equal(t, int64(1), c.Token)
		assert.Equal(t, int64(2), c.Head)
	})
}

func TestMalformedChallengesAndTokens(t *testing.T) {
	cases := map[string]struct {
		match faultinject.Match
		fault faultinject.Fault
	}{
		"challenge without realm": {faultinject.Pings, faultinject.Status(401, "WWW-Authenticate", `Bearer service="registry"`)},
		"unparseable challenge":   {faultinject.Pings, faultinject.Status(401, "WWW-Authenticate", `Bearer realm="http://`)},
		"challenge of no scheme":  {faultinject.Pings, faultinject.Status(401, "WWW-Authenticate", `,,,=`)},
		"token JSON malformed":    {faultinject.Tokens, faultinject.Body([]byte(`{"token":`), "Content-Type", "application/json")},
		"token JSON wrong type":   {faultinject.Tokens, faultinject.Body([]byte(`{"token":42}`))},
		"empty token":             {faultinject.Tokens, faultinject.Body([]byte(`{"token":""}`))},
		"token with spaces":       {faultinject.Tokens, faultinject.Body([]byte(`{"token":"a b\r\nX-Injected: 1"}`))},
		"no JSON at all":          {faultinject.Tokens, faultinject.Body([]byte(`<html>login</html>`))},
	}
	d := driver{"distribution", registrytest.Distribution, registry.FlavorDistribution, true}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := setup(t, d)
			h.faults.Add(tc.match, -1, tc.fault)
			_, err := h.check(context.Background())
			require.Error(t, err)
			var re *registry.Error
			require.ErrorAs(t, err, &re, "typed: %v", err)
			assert.True(t, errors.Is(err, registry.ErrBadResponse) || errors.Is(err, registry.ErrUnsupported) || errors.Is(err, registry.ErrInsecure), "%v", err)
		})
	}
}

// realmWatcher is a server that must receive nothing.
func realmWatcher(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"token":"stolen"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestHostileRealmsAreRefused(t *testing.T) {
	other, hits := realmWatcher(t)
	realms := map[string]string{
		"loopback IP not the registry": other.URL + "/token",
		"localhost on another port":    strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/token",
		"link-local metadata address":  "http://169.254.169.254/latest/meta-data",
		"private address":              "https://10.0.0.1/token",
		"IPv6 loopback":                "http://[::1]:1/token",
		"not http(s)":                  "ftp://auth.example/token",
		"file URL":                     "file:///etc/passwd",
		"another host over plain http": "http://auth.example/token",
	}
	for name, realm := range realms {
		t.Run(name, func(t *testing.T) {
			h := setup(t, driver{"distribution", registrytest.Distribution, registry.FlavorDistribution, true})
			h.faults.Add(faultinject.Pings, -1, faultinject.Status(401, "WWW-Authenticate", `Bearer realm="`+realm+`",service="registry"`))
			_, err := h.check(context.Background())
			require.ErrorIs(t, err, registry.ErrInsecure)
			assert.Contains(t, err.Error(), "refused")
		})
	}
	assert.Zero(t, hits.Load(), "no refused realm received anything")
}

func TestHTTPSRegistryWithHTTPRealmIsRefused(t *testing.T) {
	dns, err := fakedns.New()
	require.NoError(t, err)
	defer dns.Close()
	var hits atomic.Int64
	_, err = dns.Serve("registry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			hits.Add(1)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://registry.test/token",service="registry.test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	require.NoError(t, err)
	tr := dns.Transport()
	defer tr.CloseIdleConnections()
	b, err := openWith(t, "registry.test/org", tr)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrInsecure)
	assert.Contains(t, err.Error(), "plain http for an https registry")
	assert.Zero(t, hits.Load())
}

func TestOversizedBodies(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		h := setup(t, driver{"ghcr", registrytest.GHCR, registry.FlavorGHCR, true})
		big := append([]byte(`{"token":"`), bytes.Repeat([]byte("a"), 2<<20)...)
		h.faults.Add(faultinject.Tokens, -1, faultinject.Body(append(big, `"}`...)))
		_, err := h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrBadResponse)
	})
	t.Run("manifest", func(t *testing.T) {
		h := setup(t, driver{"basic", registrytest.Basic, registry.FlavorUnknown, false})
		h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusMethodNotAllowed))
		h.faults.Add(faultinject.Manifests, -1, faultinject.Body(bytes.Repeat([]byte(" "), 5<<20), "Content-Type", "application/vnd.oci.image.manifest.v1+json"))
		_, err := h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrBadResponse)
	})
}

func TestManifestRedirectDropsAuthorization(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		var gotAuth atomic.Value
		gotAuth.Store("")
		h := setup(t, d)
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotAuth.Store(r.Header.Get("Authorization"))
			w.Header().Set("Docker-Content-Digest", h.digest)
			w.WriteHeader(http.StatusOK)
		}))
		defer elsewhere.Close()
		h.faults.Add(faultinject.Heads, 1, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") == "" {
				return false // let the auth flow run first
			}
			return faultinject.Redirect(elsewhere.URL+r.URL.Path)(w, r)
		})
		got, err := h.check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, h.digest, got)
		assert.Empty(t, gotAuth.Load(), "Authorization is not forwarded to another host")
	})
}

func TestDigestHeaderProblems(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		h := setup(t, d)
		h.faults.Add(faultinject.Heads, 1, faultinject.Status(http.StatusOK, "Docker-Content-Digest", "sha256:zzz"))
		got, err := h.check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, h.digest, got, "a malformed header falls back to GET and hashing")
		assert.Equal(t, int64(1), h.srv.Counts().Get)

		wrong := "sha256:" + strings.Repeat("0", 64)
		h.faults.Add(faultinject.Heads, 1, faultinject.Status(http.StatusMethodNotAllowed))
		h.faults.Add(faultinject.Manifests, 1, faultinject.Body([]byte(`{"schemaVersion":2}`), "Docker-Content-Digest", wrong))
		_, err = h.check(context.Background())
		require.ErrorIs(t, err, registry.ErrBadResponse, "never a wrong digest")
	})
}

// The leak check itself: it sees a secret planted in the logs, in an error,
// and a token the registry issued.
func TestLeakCheckCatchesSecrets(t *testing.T) {
	h := setup(t, drivers[0])
	_, err := h.check(context.Background())
	require.NoError(t, err)
	assert.Empty(t, h.leaks())
	tokens := h.srv.IssuedTokens()
	require.NotEmpty(t, tokens)
	_, _ = h.logs.Write([]byte("level=DEBUG msg=oops token=" + tokens[0] + "\n"))
	h.errs = append(h.errs, errors.New("bad password "+password))
	assert.Len(t, h.leaks(), 2)
	h.logs = &syncBuffer{}
	h.errs = nil
}

// A GET whose body stops short (the connection closes mid-response) is a
// typed error, never a digest of half a manifest.
func TestTruncatedManifestBody(t *testing.T) {
	forEach(t, drivers, func(t *testing.T, d driver) {
		h := setup(t, d)
		h.faults.Add(faultinject.Heads, -1, faultinject.Status(http.StatusMethodNotAllowed))
		h.faults.Add(faultinject.Manifests, -1, func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Length", "4096")
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"schemaVersion":2,`))
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return true
		})
		_, err := h.check(context.Background())
		require.Error(t, err)
		assert.ErrorIs(t, err, registry.ErrUnavailable)
	})
}
