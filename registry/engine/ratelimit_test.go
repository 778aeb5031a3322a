package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A registry's pull limit (Docker Hub's ratelimit-limit and
// ratelimit-remaining) reaches the request observer on every manifest
// answer: HEADs leave it as it is, GETs spend it; a 429 for the exhausted
// limit says what is left in its error.
func TestPullLimitIsReported(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous, PullLimit: 2})
	defer srv.Close()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	for _, tag := range []string{"latest", "v1", "v2"} {
		_, err = srv.Push("org/app", tag, img)
		require.NoError(t, err)
	}
	var mu sync.Mutex
	var seen []registry.Request
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Env: registry.EnvMap(map[string]string{}), MaxTries: 1, OnRequest: func(r registry.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Kind == "manifest" {
			seen = append(seen, r)
		}
	}})
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		_, err := b.ManifestDigest(ctx, "app", "latest") // HEAD: no pull spent
		require.NoError(t, err)
	}
	plat := registry.Platform{OS: "linux", Architecture: "amd64"}
	_, err = b.PlatformDigest(ctx, "app", "latest", plat) // HEAD, then the GET of the manifest: one pull
	require.NoError(t, err)
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	assert.Equal(t, 2, seen[0].RateLimit)
	assert.Equal(t, 2, seen[0].RateRemaining, "a HEAD is not a pull")
	assert.Equal(t, "GET", last.Method)
	assert.Equal(t, 1, last.RateRemaining, "a GET is")

	_, err = b.PlatformDigest(ctx, "app", "v1", plat) // the last pull
	require.NoError(t, err)
	_, err = b.PlatformDigest(ctx, "app", "v2", plat)
	require.ErrorIs(t, err, registry.ErrRateLimited)
	assert.ErrorContains(t, err, "0 of 2 pulls left in the registry's 6h0m0s window")
}
