package faults

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/internal/fakedns"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openWith(t *testing.T, prefix string, tr http.RoundTripper, tweak ...func(*registry.Options)) (registry.Backend, error) {
	t.Helper()
	o := registry.Options{
		HTTPClient:  &http.Client{Transport: tr},
		Credentials: authn.Static(authn.Credential{Username: user, Password: password}),
		Env:         registry.EnvMap(nil), MaxTries: 1,
	}
	for _, f := range tweak {
		f(&o)
	}
	return backends.Open(prefix, &o)
}

// authLog records the Authorization scheme each host received.
type authLog struct {
	mu   sync.Mutex
	seen map[string][]string
}

func (a *authLog) record(host string, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string][]string{}
	}
	scheme := "none"
	if v := r.Header.Get("Authorization"); v != "" {
		scheme, _, _ = cut(v)
	}
	a.seen[host] = append(a.seen[host], scheme)
}

func cut(v string) (string, string, bool) {
	for i := range v {
		if v[i] == ' ' {
			return v[:i], v[i+1:], true
		}
	}
	return v, "", false
}

// A registry whose realm is on another DNS host over HTTPS (Docker Hub's
// registry-1.docker.io and auth.docker.io): it works, the Basic credentials
// go to the realm only, and the registry sees only the bearer token.
func TestRealmOnAnotherHostOverHTTPS(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{user: password}})
	defer srv.Close()
	img, _ := random.Image(32, 1)
	want, err := srv.Push("org/app", "latest", img)
	require.NoError(t, err)
	backend, _ := url.Parse(srv.URL())

	dns, err := fakedns.New()
	require.NoError(t, err)
	defer dns.Close()
	log := &authLog{}
	proxy := func(host, rewriteFrom, rewriteTo string) http.Handler {
		rp := httputil.NewSingleHostReverseProxy(backend)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.record(host, r)
			if r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="https://auth.test/token",service="registry"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.URL.Path == rewriteFrom {
				r.URL.Path = rewriteTo
			}
			rp.ServeHTTP(w, r)
		})
	}
	_, err = dns.Serve("registry.test", proxy("registry.test", "", ""))
	require.NoError(t, err)
	_, err = dns.Serve("auth.test", proxy("auth.test", "/token", "/auth/token"))
	require.NoError(t, err)
	tr := dns.Transport()
	defer tr.CloseIdleConnections()

	b, err := openWith(t, "registry.test/org", tr)
	require.NoError(t, err)
	got, err := b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, want.String(), got)
	assert.Equal(t, []string{"Basic"}, log.seen["auth.test"], "credentials went to the realm")
	assert.NotContains(t, log.seen["registry.test"], "Basic", "the registry never saw them")
	assert.Contains(t, log.seen["registry.test"], "Bearer")
}

// A token service that redirects elsewhere: the credentials stay behind.
func TestTokenRedirectDropsCredentials(t *testing.T) {
	dns, err := fakedns.New()
	require.NoError(t, err)
	defer dns.Close()
	log := &authLog{}
	_, err = dns.Serve("registry.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record("registry.test", r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://auth.test/token",service="registry"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	require.NoError(t, err)
	_, err = dns.Serve("auth.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record("auth.test", r)
		http.Redirect(w, r, "https://elsewhere.test/token?"+r.URL.RawQuery, http.StatusFound)
	}))
	require.NoError(t, err)
	_, err = dns.Serve("elsewhere.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record("elsewhere.test", r)
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	require.NoError(t, err)
	tr := dns.Transport()
	defer tr.CloseIdleConnections()

	b, err := openWith(t, "registry.test/org", tr)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Equal(t, []string{"Basic"}, log.seen["auth.test"])
	assert.Equal(t, []string{"none"}, log.seen["elsewhere.test"], "no Authorization across the redirect")
}
