package ghcr_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	user = "octocat"
	pat  = "ghp_s3cretPersonalAccessToken0123456789"
)

type fixture struct {
	srv     *registrytest.Server
	clock   *registrytest.Clock
	backend registry.Backend
	digests map[string]string
}

// tokenFlow makes the imitation refuse a PAT sent directly, so that the
// backend uses GHCR's token service.
func tokenFlow(c *registrytest.Config) { c.RefuseDirectPAT = true }

func setup(t *testing.T, anonymous bool, env map[string]string, mods ...func(*registrytest.Config)) *fixture {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	cfg := registrytest.Config{
		Mode: registrytest.GHCR, Users: map[string]string{user: pat},
		AllowAnonymous: anonymous, Now: clock.Now,
	}
	for _, m := range mods {
		m(&cfg)
	}
	srv := registrytest.NewServer(cfg)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, clock: clock, digests: map[string]string{}}
	for _, repo := range []string{"workspace-template-langgraph", "workspace-template-autogen"} {
		img, err := random.Image(256, 1)
		require.NoError(t, err)
		h, err := srv.Push("molecule-ai/"+repo, "latest", img)
		require.NoError(t, err)
		f.digests[repo] = h.String()
	}
	p := registry.MustParsePrefix(srv.Host() + "/molecule-ai")
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	// The driver's own chain, without the machine's Docker config.
	b, err := engine.Open(p, []engine.Spec{ghcr.Driver(nil)}, &registry.Options{Flavor: registry.FlavorGHCR, Clock: clock, Credentials: authn.Chain(authn.Env(ghcr.EnvUser, ghcr.EnvToken, lookup), authn.Anonymous)})
	require.NoError(t, err)
	f.backend = b
	return f
}

func creds() map[string]string { return map[string]string{ghcr.EnvUser: user, ghcr.EnvToken: pat} }

// With a PAT every check is one HEAD, cold or steady, in any repository:
// ghcr.io takes the PAT as a bearer token directly.
func TestDirectPATCostsOneRequestPerCheck(t *testing.T) {
	f := setup(t, false, creds())
	ctx := context.Background()
	for range 3 {
		for _, repo := range []string{"workspace-template-langgraph", "workspace-template-autogen"} {
			d, err := f.backend.ManifestDigest(ctx, repo, "latest")
			require.NoError(t, err)
			assert.Equal(t, f.digests[repo], d)
		}
		f.clock.Advance(5 * time.Minute)
	}
	assert.Equal(t, registrytest.Counts{Head: 6}, f.srv.Counts(), "no token request at all")
}

// A registry that refuses the PAT as a bearer token: the backend falls back
// to the token service once, for its lifetime.
func TestDirectPATRefusedFallsBackOnce(t *testing.T) {
	f := setup(t, false, creds(), tokenFlow)
	ctx := context.Background()

	d, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["workspace-template-langgraph"], d)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 2, Rejected: 1}, f.srv.Counts(), "the refused direct HEAD, then token + HEAD")

	f.srv.ResetCounts()
	for range 10 {
		d, err = f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
		require.NoError(t, err)
		require.Equal(t, f.digests["workspace-template-langgraph"], d)
	}
	assert.Equal(t, registrytest.Counts{Head: 10}, f.srv.Counts(), "steady state: one HEAD per check, never the direct PAT again")

	f.srv.ResetCounts()
	_, err = f.backend.ManifestDigest(ctx, "workspace-template-autogen", "latest")
	require.NoError(t, err)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 1}, f.srv.Counts(), "new repository: its own scoped token")
}

func TestTokenRefreshedBeforeExpiryWithoutFailedRequest(t *testing.T) {
	f := setup(t, false, creds(), tokenFlow)
	ctx := context.Background()
	// Check every 5 s over 10 minutes of 60 s tokens.
	for range 120 {
		_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
		require.NoError(t, err)
		f.clock.Advance(5 * time.Second)
	}
	c := f.srv.Counts()
	assert.Equal(t, int64(1), c.Rejected, "no request may be sent with an expired token (the one refusal is the direct PAT)")
	assert.Equal(t, int64(121), c.Head)
	// Refresh at 30 s of each 60 s token: 600 s / 30 s = 20 tokens.
	assert.InDelta(t, 20, c.Token, 1)
}

func TestConcurrentFirstChecksFetchOneToken(t *testing.T) {
	f := setup(t, false, creds(), tokenFlow)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.backend.ManifestDigest(context.Background(), "workspace-template-langgraph", "latest")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	c := f.srv.Counts()
	assert.Equal(t, int64(1), c.Token, "one token however many callers")
	assert.Equal(t, int64(50), c.Head-c.Rejected, "one accepted HEAD per caller")
	assert.GreaterOrEqual(t, c.Rejected, int64(1), "the direct PAT, refused, sent by each caller that raced ahead of the refusal")
}

func TestAnonymousPublicImage(t *testing.T) {
	f := setup(t, true, nil)
	d, err := f.backend.ManifestDigest(context.Background(), "workspace-template-langgraph", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["workspace-template-langgraph"], d)
	cred, err := f.backend.Credential(context.Background())
	require.NoError(t, err)
	assert.True(t, cred.IsAnonymous())
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("missing tag is not found", func(t *testing.T) {
		f := setup(t, false, creds())
		_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "nope")
		require.ErrorIs(t, err, registry.ErrNotFound)
		assert.Contains(t, err.Error(), "workspace-template-langgraph:nope")
	})
	t.Run("wrong token is unauthorized and names the variables", func(t *testing.T) {
		f := setup(t, false, map[string]string{ghcr.EnvUser: user, ghcr.EnvToken: "ghp_wrongwrongwrong"})
		_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
		require.ErrorIs(t, err, registry.ErrUnauthorized)
		assert.Contains(t, err.Error(), "GHCR_TOKEN")
		assert.NotContains(t, err.Error(), "ghp_wrongwrongwrong")
	})
	t.Run("half-set credentials are a configuration error", func(t *testing.T) {
		f := setup(t, false, map[string]string{ghcr.EnvToken: pat})
		_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
		require.ErrorIs(t, err, registry.ErrInvalidConfig)
		assert.Contains(t, err.Error(), "GHCR_USER")
		assert.NotContains(t, err.Error(), pat)
	})
	t.Run("bad reference", func(t *testing.T) {
		f := setup(t, false, creds())
		_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "sha256:abc")
		require.ErrorIs(t, err, registry.ErrInvalidConfig)
		assert.Contains(t, err.Error(), "sha256:abc")
		assert.Zero(t, f.srv.Counts().Total(), "bad input must not reach the registry")
	})
}

func TestRepositoryNamesAreLowercased(t *testing.T) {
	f := setup(t, false, creds())
	d, err := f.backend.ManifestDigest(context.Background(), "Workspace-Template-LangGraph", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["workspace-template-langgraph"], d)
}

func TestRevokedTokenIsRefetchedOnce(t *testing.T) {
	f := setup(t, false, creds(), tokenFlow)
	ctx := context.Background()
	_, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
	require.NoError(t, err)
	f.srv.RevokeTokens()
	f.srv.ResetCounts()
	d, err := f.backend.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["workspace-template-langgraph"], d)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 2, Rejected: 1}, f.srv.Counts())
}

func TestCredentialIsThePAT(t *testing.T) {
	f := setup(t, false, creds())
	cred, err := f.backend.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, user, cred.Username)
	assert.Equal(t, pat, cred.Password)
	assert.NotContains(t, cred.String(), pat)
}

// ghcr.Config.TokenService skips the direct PAT: no refused request first.
func TestWithTokenService(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, Users: map[string]string{user: pat}, Now: clock.Now, RefuseDirectPAT: true})
	defer srv.Close()
	img, _ := random.Image(32, 1)
	h, err := srv.Push("molecule-ai/app", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR,
		Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", ghcr.EnvUser: user, ghcr.EnvToken: pat})},
		ghcr.Driver(&ghcr.Config{TokenService: true}))
	require.NoError(t, err)
	d, err := b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, h.String(), d)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 1}, srv.Counts())
}
