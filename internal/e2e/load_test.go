package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad runs 10,000 digest checks at concurrency 64 over 100 repositories
// against the CNCF registry with token auth, 1% of all requests answered 503
// and tokens living 1 s, so that each expires several times during the run.
// It asserts zero wrong digests, typed failures only, and token requests
// within the single-flight bound; it reports the retries. -short runs a
// tenth of it.
func TestLoad(t *testing.T) {
	checks, repos, workers := 10_000, 100, 64
	if testing.Short() {
		checks, repos, workers = 1_000, 20, 16
	}
	reg, err := Start(TokenAuth, map[string]string{user: password}, t.TempDir())
	require.NoError(t, err)
	defer reg.Close()
	reg.TokenLife = time.Second

	want := make([]string, repos)
	auth := remote.WithAuth(&ggcrauthn.Basic{Username: user, Password: password})
	for i := range repos {
		img, err := random.Image(64, 1)
		require.NoError(t, err)
		ref, err := name.NewTag(fmt.Sprintf("%s/org/r%03d:latest", reg.Host(), i), name.Insecure)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img, auth))
		d, _ := img.Digest()
		want[i] = d.String()
	}

	var requests, injected, injectedTokens atomic.Int64
	reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if requests.Add(1)%100 != 0 {
			return false
		}
		injected.Add(1)
		if r.URL.Path == "/token" {
			injectedTokens.Add(1)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	reg.Reset()
	b := open(t, reg, authn.Credential{Username: user, Password: password}, nil)

	var wrong, failed, untyped atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				repo := i % repos
				d, err := b.ManifestDigest(context.Background(), fmt.Sprintf("r%03d", repo), "latest")
				var re *registry.Error
				switch {
				case err != nil && !errors.As(err, &re):
					untyped.Add(1)
					t.Errorf("untyped error: %v", err)
				case err != nil:
					failed.Add(1)
				case d != want[repo]:
					wrong.Add(1)
				}
			}
		}()
	}
	for i := range checks {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	c := reg.Counts()
	// Single flight: per repository scope, one successful token fetch per
	// refresh window (half of a 1 s token), plus one for the first, plus the
	// token requests that were answered 503 and retried.
	windows := int64(elapsed/(500*time.Millisecond)) + 2
	bound := int64(repos)*windows + injectedTokens.Load()
	// Counts exclude the requests answered 503; every request beyond one
	// HEAD per check, the successful token fetches and the probe is a retry.
	retries := requests.Load() - int64(checks) - c.Token - c.Ping
	t.Logf("%d checks at concurrency %d over %d repositories in %s (%.0f checks/s)", checks, workers, repos, elapsed.Round(time.Millisecond), float64(checks)/elapsed.Seconds())
	t.Logf("requests: %d HEAD, %d GET, %d token, %d probe; %d answered 503; %d retried; %d checks failed (typed)",
		c.Head, c.Get, c.Token, c.Ping, injected.Load(), retries, failed.Load())
	t.Logf("token requests %d, single-flight bound %d (%d scopes x %d refresh windows + %d injected failures)",
		c.Token, bound, repos, windows, injectedTokens.Load())

	assert.Zero(t, wrong.Load(), "no wrong digest")
	assert.Zero(t, untyped.Load(), "every failure typed")
	assert.LessOrEqual(t, c.Token, bound, "token requests within the single-flight bound")
	assert.Greater(t, c.Token, int64(repos), "tokens expired and were refreshed during the run")
	assert.LessOrEqual(t, retries, injected.Load(), "one retry per injected fault at most")
	assert.LessOrEqual(t, failed.Load(), int64(checks)/100, "retries absorb a 1% fault rate")
}
