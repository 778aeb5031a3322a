package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbedSharesOnePingAndRespectsContext(t *testing.T) {
	release := make(chan struct{})
	var pings atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pings.Add(1)
		<-release
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	b := openTest(t, strings.TrimPrefix(srv.URL, "http://")+"/org", Config{}, registry.Options{})
	probe := b.auth.discover

	first := make(chan *registry.Challenge)
	go func() {
		c, err := probe(context.Background())
		assert.NoError(t, err)
		first <- c
	}()
	require.Eventually(t, func() bool { return pings.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := probe(ctx)
	assert.ErrorIs(t, err, context.Canceled, "a waiter leaves with its own context")
	close(release)
	c := <-first
	assert.True(t, c.IsBasic())
	again, err := probe(context.Background())
	require.NoError(t, err)
	assert.Same(t, c, again, "remembered")
	assert.Equal(t, int64(1), pings.Load())
}

// openTest opens an engine backend for prefix with cfg, as a driver would.
func openTest(t *testing.T, prefix string, cfg Config, o registry.Options) *backend {
	t.Helper()
	spec := Spec{Flavor: registry.FlavorDistribution, Configure: func(Target) (Config, error) { return cfg, nil }}
	o.Flavor = registry.FlavorDistribution
	b, err := Open(registry.MustParsePrefix(prefix), []Spec{spec}, &o)
	require.NoError(t, err)
	return b.(*backend)
}

// Every caller of a shared token fetch, the one that started it included,
// leaves at its own deadline: with a token service that never answers, a
// check under a short context returns with that context's error while the
// token request is still held (it used to wait for the 30 s fetch timeout).
// The fetch goes on for a caller with a longer deadline, which gets the
// token when the service answers.
func TestTokenFetchStarterLeavesAtItsOwnDeadline(t *testing.T) {
	release := make(chan struct{})
	var tokens atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			tokens.Add(1)
			<-release
			_, _ = w.Write([]byte(`{"token":"t"}`))
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="s"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		}
	}))
	defer srv.Close()
	b := openTest(t, strings.TrimPrefix(srv.URL, "http://")+"/org", Config{Auth: TokenService{Realm: srv.URL + "/token", Service: "s"}}, registry.Options{})

	ctx, cancel := context.WithCancel(context.Background())
	starter := make(chan error, 1)
	go func() {
		_, err := b.ManifestDigest(ctx, "app", "latest")
		starter <- err
	}()
	require.Eventually(t, func() bool { return tokens.Load() == 1 }, 5*time.Second, time.Millisecond)
	waiter := make(chan error, 1)
	go func() {
		_, err := b.ManifestDigest(context.Background(), "app", "latest")
		waiter <- err
	}()
	cancel() // the starter's deadline
	select {
	case err := <-starter:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the caller that started the token fetch did not leave at its own deadline")
	}
	close(release)
	require.NoError(t, <-waiter)
	assert.Equal(t, int64(1), tokens.Load(), "one token request for both")
}
