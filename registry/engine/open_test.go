package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probed is a registry whose /v2/ answers a Bearer challenge with service
// (the distribution token spec's WWW-Authenticate; Gitea's service is
// "container_registry", routers/api/packages/container/container.go in
// go-gitea/gitea), counting probes; its token service and manifests answer
// anyone. While down, /v2/ answers 503; gate, when set, holds each probe.
type probed struct {
	*httptest.Server
	service string
	probes  atomic.Int32
	down    atomic.Bool
	gate    chan struct{}
}

func newProbed(t *testing.T, service string) *probed {
	p := &probed{service: service}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			p.probes.Add(1)
			if p.gate != nil {
				<-p.gate
			}
			if p.down.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="`+p.service+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/token":
			_, _ = w.Write([]byte(`{"token":"t"}`))
		default:
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *probed) prefix() registry.Prefix {
	return registry.MustParsePrefix(strings.TrimPrefix(p.URL, "http://") + "/org")
}

// specs: one claims ghcr.io by host, one claims Gitea's challenge, one is
// the fallback. configured records the challenge each Configure received.
func specs(configured func(registry.Flavor, *registry.Challenge)) []engine.Spec {
	conf := func(f registry.Flavor) func(engine.Target) (engine.Config, error) {
		return func(t engine.Target) (engine.Config, error) {
			if configured != nil {
				configured(f, t.Challenge)
			}
			return engine.Config{}, nil
		}
	}
	return []engine.Spec{
		{Flavor: registry.FlavorGHCR, ClaimsHost: func(h string) bool { return h == "ghcr.io" }, Configure: conf(registry.FlavorGHCR)},
		{Flavor: registry.FlavorGitea, ClaimsChallenge: func(c *registry.Challenge) bool { return c.Params["service"] == "container_registry" },
			Configure: conf(registry.FlavorGitea)},
		{Flavor: registry.FlavorDistribution, Fallback: true, Configure: conf(registry.FlavorDistribution)},
	}
}

// Selection by host at Open, by challenge inside the backend's first
// request (one probe for its lifetime, whose challenge the selected flavor
// receives), and the fallback otherwise.
func TestOpenSelects(t *testing.T) {
	for _, tc := range []struct {
		name, service string
		specs         func([]engine.Spec) []engine.Spec
		opts          *registry.Options
		want          registry.Flavor
		probes        int32
	}{
		{"by challenge", "container_registry", nil, nil, registry.FlavorGitea, 1},
		{"fallback after the probe", "registry", nil, nil, registry.FlavorDistribution, 1},
		{"forced", "container_registry", nil, &registry.Options{Flavor: registry.FlavorDistribution}, registry.FlavorDistribution, 1},
		{"fallback without a challenge claimer", "container_registry",
			func(s []engine.Spec) []engine.Spec { return []engine.Spec{s[0], s[2]} }, nil, registry.FlavorDistribution, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newProbed(t, tc.service)
			var got *registry.Challenge
			ss := specs(func(_ registry.Flavor, c *registry.Challenge) { got = c })
			if tc.specs != nil {
				ss = tc.specs(ss)
			}
			b, err := engine.Open(srv.prefix(), ss, tc.opts)
			require.NoError(t, err)
			assert.Zero(t, srv.probes.Load(), "Open does no I/O")
			for range 2 {
				_, err = b.ManifestDigest(context.Background(), "app", "latest")
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, b.Flavor())
			assert.Equal(t, tc.probes, srv.probes.Load(), "one probe for the backend's lifetime")
			if tc.opts == nil && tc.specs == nil {
				require.NotNil(t, got, "the probed challenge is handed to the flavor")
				assert.Equal(t, tc.service, got.Params["service"])
			}
		})
	}
	b, err := engine.Open(registry.MustParsePrefix("ghcr.io/org"), specs(nil), nil)
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGHCR, b.Flavor(), "by host, at Open")
}

// A registry that is down when the program starts: Open succeeds, each
// request reports the failure, and the first request after it comes back
// selects the flavor.
func TestOpenSelectsAgainAfterAFailedProbe(t *testing.T) {
	srv := newProbed(t, "container_registry")
	srv.down.Store(true)
	b, err := engine.Open(srv.prefix(), specs(nil), &registry.Options{MaxTries: 1})
	require.NoError(t, err)
	for range 2 {
		_, err = b.ManifestDigest(context.Background(), "app", "latest")
		require.ErrorIs(t, err, registry.ErrUnavailable)
	}
	assert.Equal(t, registry.FlavorUnknown, b.Flavor())
	srv.down.Store(false)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, b.Flavor())
	assert.Equal(t, int32(3), srv.probes.Load(), "two failures, one success, then none")
}

// Concurrent first requests share one probe; a caller whose context ends
// leaves without waiting for it.
func TestOpenConcurrentFirstRequestsShareOneProbe(t *testing.T) {
	srv := newProbed(t, "container_registry")
	srv.gate = make(chan struct{})
	b, err := engine.Open(srv.prefix(), specs(nil), nil)
	require.NoError(t, err)
	const callers = 5
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.ManifestDigest(context.Background(), "app", "latest")
			assert.NoError(t, err)
		}()
	}
	require.Eventually(t, func() bool { return srv.probes.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.ManifestDigest(ctx, "app", "latest")
	require.ErrorIs(t, err, context.Canceled, "a caller leaves with its own context")
	close(srv.gate)
	wg.Wait()
	assert.Equal(t, int32(1), srv.probes.Load())
}

// A flavor whose Configure panics does not leave the backend stuck: every
// caller of that selection gets an error, and the next call configures
// afresh.
func TestConfigurePanicThenRecovery(t *testing.T) {
	srv := newProbed(t, "container_registry")
	var calls atomic.Int32
	ss := specs(func(registry.Flavor, *registry.Challenge) {
		if calls.Add(1) == 1 {
			panic("driver bug")
		}
	})
	b, err := engine.Open(srv.prefix(), ss, nil)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.Error(t, err)
	assert.ErrorContains(t, err, "panicked")
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err, "Configure is called again")
	assert.Equal(t, int32(2), calls.Load())
	assert.Equal(t, registry.FlavorGitea, b.Flavor())
}

// A driver whose Configure reports a configuration error at selection
// fails every call with it, and nothing is probed again: no probe will make
// it right.
func TestConfigErrorAtSelectionIsFinal(t *testing.T) {
	srv := newProbed(t, "container_registry")
	ss := specs(nil)
	ss[1].Configure = func(engine.Target) (engine.Config, error) {
		return engine.Config{}, &registry.ConfigError{Var: "gitea option", Reason: "is wrong", Fix: "fix it"}
	}
	b, err := engine.Open(srv.prefix(), ss, nil)
	require.NoError(t, err)
	for range 2 {
		_, err = b.ManifestDigest(context.Background(), "app", "latest")
		require.ErrorIs(t, err, registry.ErrInvalidConfig)
	}
	assert.Equal(t, int32(1), srv.probes.Load())
}

func TestOpenErrors(t *testing.T) {
	_, err := engine.Open(registry.MustParsePrefix("123456789012.dkr.ecr.us-east-2.amazonaws.com/x"), nil, nil)
	require.ErrorIs(t, err, registry.ErrUnsupported)
	assert.Contains(t, err.Error(), `"ecr"`)

	_, err = engine.Open(registry.MustParsePrefix("ghcr.io/x"), specs(nil), &registry.Options{Flavor: registry.FlavorECRPublic})
	require.ErrorIs(t, err, registry.ErrUnsupported)
	assert.Contains(t, err.Error(), "ecr-public")
	assert.Contains(t, err.Error(), "ghcr, gitea, distribution")

	_, err = engine.Open(registry.Prefix{}, specs(nil), nil)
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
}
