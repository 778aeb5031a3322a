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
	b := openTest(t, strings.TrimPrefix(srv.URL, "http://")+"/org", Config{})
	probe := b.auth.currentChallenge

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
func openTest(t *testing.T, prefix string, cfg Config, opts ...registry.Option) *backend {
	t.Helper()
	d := NewDriver(Spec{Flavor: registry.FlavorDistribution, Configure: func(registry.Target) (Config, error) { return cfg, nil }})
	b, err := d.Open(registry.Target{Prefix: registry.MustParsePrefix(prefix), Options: registry.NewOptions(opts...)})
	require.NoError(t, err)
	return b.(*backend)
}
