package registry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// fakeBackend records which driver opened it.
type fakeBackend struct {
	flavor    registry.Flavor
	p         registry.Prefix
	challenge *registry.Challenge
}

func (b *fakeBackend) Host() string   { return b.p.Host() }
func (b *fakeBackend) Prefix() string { return b.p.String() }
func (b *fakeBackend) Token(context.Context, string) (*oauth2.Token, error) {
	return &oauth2.Token{}, nil
}
func (b *fakeBackend) ManifestDigest(context.Context, string, string) (string, error) {
	return "sha256:" + strings.Repeat("a", 64), nil
}
func (b *fakeBackend) Flavor() registry.Flavor { return b.flavor }

type fakeDriver struct {
	flavor registry.Flavor
	claims func(registry.Prefix) bool
	byChal func(*registry.Challenge) bool
}

func (d fakeDriver) Flavor() registry.Flavor { return d.flavor }
func (d fakeDriver) Claims(p registry.Prefix) bool {
	return d.claims != nil && d.claims(p)
}
func (d fakeDriver) Open(t registry.Target) (registry.Backend, error) {
	return &fakeBackend{flavor: d.flavor, p: t.Prefix, challenge: t.Challenge}, nil
}

// proberDriver is a driver that claims nothing and probes with probe.
type proberDriver struct {
	fakeDriver
	probe func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error)
}

func (d proberDriver) Probe(ctx context.Context, p registry.Prefix, o *registry.Options) (*registry.Challenge, error) {
	return d.probe(ctx, p, o)
}

// withProbe returns ds and a driver that probes with probe.
func withProbe(ds []registry.Driver, probe func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error)) []registry.Driver {
	return append(ds, proberDriver{fakeDriver{flavor: "prober"}, probe})
}

type challengeDriver struct{ fakeDriver }

func (d challengeDriver) ClaimsChallenge(c *registry.Challenge) bool { return d.byChal(c) }

type fallbackDriver struct{ fakeDriver }

func (fallbackDriver) Fallback() bool { return true }

func drivers() []registry.Driver {
	return []registry.Driver{
		fakeDriver{flavor: registry.FlavorGHCR, claims: func(p registry.Prefix) bool { return registry.DetectFlavor(p.Host()) == registry.FlavorGHCR }},
		challengeDriver{fakeDriver{flavor: registry.FlavorGitea, byChal: func(c *registry.Challenge) bool { return c.Params["service"] == "container_registry" }}},
		fallbackDriver{fakeDriver{flavor: registry.FlavorDistribution}},
	}
}

func TestOpenSelectsDriver(t *testing.T) {
	ctx := context.Background()
	probes := 0
	probing := func(service string) []registry.Driver {
		if service == "" {
			return drivers()
		}
		return withProbe(drivers(), func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error) {
			probes++
			return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"service": service}}, nil
		})
	}
	cases := []struct {
		name       string
		prefix     string
		service    string // what a probe answers; "" for no prober
		opts       []registry.Option
		want       registry.Flavor
		wantProbes int
	}{
		{"by host", "ghcr.io/org", "x", nil, registry.FlavorGHCR, 0},
		{"forced", "ghcr.io/org", "x", []registry.Option{registry.WithFlavor(registry.FlavorGitea)}, registry.FlavorGitea, 0},
		{"by challenge", "git.example.com/org", "container_registry", nil, registry.FlavorGitea, 1},
		{"fallback after probe", "registry.example.com/org", "registry", nil, registry.FlavorDistribution, 1},
		{"fallback without a prober", "registry.example.com/org", "", nil, registry.FlavorDistribution, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			probes = 0
			b, err := registry.Open(registry.MustParsePrefix(tc.prefix), probing(tc.service), tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, 0, probes, "Open does no I/O")
			assert.Equal(t, registry.MustParsePrefix(tc.prefix).Host(), b.Host(), "usable at once")
			_, err = b.ManifestDigest(ctx, "app", "latest")
			require.NoError(t, err)
			_, err = b.ManifestDigest(ctx, "app", "latest")
			require.NoError(t, err)
			f, err := registry.Discover(ctx, b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, f)
			assert.Equal(t, tc.wantProbes, probes, "one probe for the backend's lifetime")
		})
	}
}

type flavorKey struct{}

// A driver option meant for another flavor is an error that names both.
func TestDriverOptionForAnotherFlavor(t *testing.T) {
	_, err := registry.Open(registry.MustParsePrefix("ghcr.io/org"), drivers(), registry.WithDriverOption(registry.FlavorECR, flavorKey{}, "us-east-2"))
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "ecr")
	assert.Contains(t, err.Error(), "ghcr")
	b, err := registry.Open(registry.MustParsePrefix("ghcr.io/org"), drivers(), registry.WithDriverOption(registry.FlavorGHCR, flavorKey{}, "x"))
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGHCR, b.(registry.Flavored).Flavor())
}

func TestOpenHandsTheProbedChallengeToTheDriver(t *testing.T) {
	var got *registry.Challenge
	d := challengeDriver{fakeDriver{flavor: registry.FlavorGitea, byChal: func(c *registry.Challenge) bool { got = c; return true }}}
	b, err := registry.Open(registry.MustParsePrefix("git.example.com/x"), withProbe([]registry.Driver{d}, func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error) {
		return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"service": "container_registry"}}, nil
	}))
	require.NoError(t, err)
	_, err = registry.Discover(context.Background(), b)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "container_registry", got.Params["service"])
}

// A registry that is down when the program starts: Open succeeds, each
// request reports the failure, and the first request after it comes back
// selects the driver.
func TestOpenRetriesDiscoveryAfterAFailure(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("connection refused")
	var probes int
	down := true
	b, err := registry.Open(registry.MustParsePrefix("git.example.com/x"), withProbe(drivers(), func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error) {
		probes++
		if down {
			return nil, boom
		}
		return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"service": "container_registry"}}, nil
	}))
	require.NoError(t, err)
	assert.Equal(t, "git.example.com/x", b.Prefix())
	for range 2 {
		_, err = b.ManifestDigest(ctx, "app", "latest")
		require.ErrorIs(t, err, boom)
	}
	f, err := registry.Discover(ctx, b)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, registry.FlavorUnknown, f)

	down = false
	d, err := b.ManifestDigest(ctx, "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+strings.Repeat("a", 64), d)
	f, err = registry.Discover(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, f)
	assert.Equal(t, 4, probes, "three failures, one success, then none")
}

// Callers waiting for another caller's probe leave when their own context
// ends, and exactly one probe is in flight.
func TestOpenConcurrentFirstRequestsShareOneProbe(t *testing.T) {
	release := make(chan struct{})
	var probes atomic.Int32
	b, err := registry.Open(registry.MustParsePrefix("git.example.com/x"), withProbe(drivers(), func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error) {
		probes.Add(1)
		<-release
		return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"service": "container_registry"}}, nil
	}))
	require.NoError(t, err)
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		close(started)
		_, err := b.ManifestDigest(context.Background(), "app", "latest")
		done <- err
	}()
	<-started
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.ManifestDigest(cancelled, "app", "latest")
	if err != nil { // the waiter left (or raced ahead of the prober and never waited)
		require.ErrorIs(t, err, context.Canceled)
	}
	close(release)
	require.NoError(t, <-done)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.LessOrEqual(t, probes.Load(), int32(2))
}

func TestOpenErrors(t *testing.T) {
	_, err := registry.Open(registry.MustParsePrefix("123456789012.dkr.ecr.us-east-2.amazonaws.com/x"), nil)
	require.ErrorIs(t, err, registry.ErrUnsupported)
	assert.Contains(t, err.Error(), `"ecr"`)

	_, err = registry.Open(registry.MustParsePrefix("ghcr.io/x"), drivers(), registry.WithFlavor(registry.FlavorECRPublic))
	require.ErrorIs(t, err, registry.ErrUnsupported)
	assert.Contains(t, err.Error(), "ecr-public")
	assert.Contains(t, err.Error(), "ghcr, gitea, distribution")

	_, err = registry.Open(registry.Prefix{}, drivers())
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
}

func TestErrorMatching(t *testing.T) {
	var err error = &registry.Error{Kind: registry.ErrRateLimited, Op: "manifest digest", Image: "ghcr.io/x:latest",
		StatusCode: 429, Code: "TOOMANYREQUESTS", RetryAfter: 2 * time.Second, Hint: "slow down"}
	wrapped := errors.Join(errors.New("context"), err)
	assert.ErrorIs(t, wrapped, registry.ErrRateLimited)
	assert.NotErrorIs(t, wrapped, registry.ErrNotFound)
	d, ok := registry.RetryAfter(wrapped)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, d)
	assert.Equal(t, "manifest digest ghcr.io/x:latest: rate limited (HTTP 429 TOOMANYREQUESTS); retry after 2s; slow down", err.Error())
	_, ok = registry.RetryAfter(errors.New("x"))
	assert.False(t, ok)

	cause := errors.New("dial tcp: refused")
	e := &registry.Error{Kind: registry.ErrUnavailable, Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.Equal(t, "registry unavailable: dial tcp: refused", e.Error())
}

func TestOptions(t *testing.T) {
	type key struct{}
	o := registry.NewOptions(registry.WithDriverOption(registry.FlavorGHCR, key{}, 42), registry.WithEnvMap(map[string]string{"A": " x ", "B": "  "}),
		registry.WithInsecureHosts("Reg.Example:5000"), nil)
	assert.Equal(t, 42, o.DriverOption(registry.FlavorGHCR, key{}))
	assert.Nil(t, o.DriverOption(registry.FlavorECR, key{}))
	assert.Equal(t, registry.DefaultRequestTimeout, o.Timeout())
	v, ok := o.Env("A")
	assert.True(t, ok)
	assert.Equal(t, "x", v)
	_, ok = o.Env("B")
	assert.False(t, ok, "blank is unset")
	_, ok = o.Env("C")
	assert.False(t, ok)
	assert.True(t, o.AllowsInsecure("reg.example:5000"))
	assert.Equal(t, 3, o.Tries())
	assert.NotNil(t, o.Log())
	assert.IsType(t, registry.SystemClock{}, o.Now())
	_, ok = registry.NewOptions().Env("PATH")
	assert.False(t, ok, "the zero Env has no variables")
}

func TestEnv(t *testing.T) {
	m := map[string]string{"A": " x ", "B": " ", registry.EnvRegistry: "git.example.com:3000/org"}
	env := registry.EnvMap(m)
	m["A"] = "changed"
	assert.Equal(t, "x", env.Get("A"), "EnvMap copies its map")
	_, ok := env.Lookup("B")
	assert.False(t, ok)
	assert.False(t, env.IsProcess())
	assert.True(t, registry.ProcessEnv().IsProcess())
	assert.False(t, registry.EnvFunc(func(string) (string, bool) { return "", false }).IsProcess())

	over := registry.ProcessEnv().With(map[string]string{registry.EnvRegistry: "reg.example/x", "HOME": ""})
	assert.True(t, over.IsProcess(), "an overlay of the process environment stays one")
	assert.Equal(t, "reg.example/x", over.Get(registry.EnvRegistry))
	_, ok = over.Lookup("HOME")
	assert.False(t, ok, "an empty override unsets")
	assert.Equal(t, "x", env.With(map[string]string{"Z": "1"}).Get("A"))

	p, err := registry.PrefixFromEnv(env)
	require.NoError(t, err)
	assert.Equal(t, "git.example.com:3000/org", p.String())
	assert.Equal(t, "git.example.com:3000", registry.NewOptions(registry.WithEnv(env)).ConfiguredHost())
	p, err = registry.PrefixFromEnv(registry.Env{})
	require.NoError(t, err)
	assert.Equal(t, registry.DefaultPrefix, p.String(), "the default, as the backend uses it")
	_, err = registry.PrefixFromEnv(registry.EnvMap(map[string]string{registry.EnvRegistry: "https://x"}))
	require.ErrorIs(t, err, registry.ErrInvalidConfig)

	f, err := registry.FlavorFromEnv(registry.EnvMap(map[string]string{registry.EnvFlavor: "Gitea"}))
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, f)
}

// waitingContext says when a caller first selects on Done: a selecting
// backend does so only while it waits on another caller's probe.
type waitingContext struct {
	context.Context
	waiting chan<- struct{}
	once    sync.Once
}

func (c *waitingContext) Done() <-chan struct{} {
	c.once.Do(func() { c.waiting <- struct{}{} })
	return c.Context.Done()
}

// Callers that waited on a probe share its outcome, failure included: a
// registry that is down costs one probe for all of them, and the next
// request probes again.
func TestOpenWaitersShareTheProbesOutcome(t *testing.T) {
	down := errors.New("probe: connection refused")
	for _, tc := range []struct {
		name    string
		result  error
		probes2 int32 // probes after one more request
	}{
		{"failure", down, 2},
		{"success", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			var probes atomic.Int32
			b, err := registry.Open(registry.MustParsePrefix("git.example.com/x"), withProbe(drivers(), func(context.Context, registry.Prefix, *registry.Options) (*registry.Challenge, error) {
				if probes.Add(1) == 1 {
					close(entered)
					<-release
				}
				if tc.result != nil {
					return nil, tc.result
				}
				return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"service": "container_registry"}}, nil
			}))
			require.NoError(t, err)

			const waiters = 4
			results := make(chan error, waiters+1)
			go func() {
				_, err := b.ManifestDigest(context.Background(), "app", "latest")
				results <- err
			}()
			<-entered
			waiting := make(chan struct{}, waiters)
			for range waiters {
				go func() {
					_, err := b.ManifestDigest(&waitingContext{Context: context.Background(), waiting: waiting}, "app", "latest")
					results <- err
				}()
			}
			for range waiters {
				<-waiting
			}
			close(release)
			for range waiters + 1 {
				if tc.result != nil {
					require.ErrorIs(t, <-results, down)
				} else {
					require.NoError(t, <-results)
				}
			}
			assert.Equal(t, int32(1), probes.Load(), "one probe for the prober and its waiters")

			_, err = b.ManifestDigest(context.Background(), "app", "latest")
			if tc.result != nil {
				require.ErrorIs(t, err, down)
			}
			assert.Equal(t, tc.probes2, probes.Load())
		})
	}
}
