package gar_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/gar"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestMain points the metadata package at a closed loopback port, so that
// no test can probe the real metadata address; a test that wants the
// metadata server sets GCE_METADATA_HOST to its imitation.
func TestMain(m *testing.M) {
	_ = os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}

type fixture struct {
	clock   *registrytest.Clock
	google  *google
	reg     *registrytest.Server
	refused *atomic.Int64
	digests map[string]string
	logs    *bytes.Buffer
}

// setup runs the imitations and pushes two images; open opens the backend.
func setup(t *testing.T) *fixture {
	t.Helper()
	// A backend clock far from the process's: oauth2 dates a token's expiry
	// by the process clock, the engine caches by the backend's.
	clock := registrytest.NewClock(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))
	g := newGoogle(t, clock)
	reg, refused := artifactRegistry(t, g)
	f := &fixture{clock: clock, google: g, reg: reg, refused: refused, digests: map[string]string{}, logs: &bytes.Buffer{}}
	for _, repo := range []string{"app", "worker"} {
		img, err := random.Image(32, 1)
		require.NoError(t, err)
		h, err := reg.Push("project/images/"+repo, "latest", img)
		require.NoError(t, err)
		f.digests[repo] = h.String()
	}
	return f
}

func (f *fixture) open(t *testing.T, env map[string]string, c *gar.Config) registry.Backend {
	t.Helper()
	o := &registry.Options{Flavor: registry.FlavorGAR, Clock: f.clock, Env: registry.EnvMap(env),
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	b, err := backends.Open(f.reg.Host()+"/project/images", o, gar.Driver(c))
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGAR, b.Flavor())
	return b
}

// check asks for repo's digest and returns what the registry and Google
// saw for it.
func (f *fixture) check(t *testing.T, b registry.Backend, repo string) (registrytest.Counts, int64) {
	t.Helper()
	f.reg.ResetCounts()
	before := f.google.requests.Load()
	d, err := b.ManifestDigest(context.Background(), repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests[repo], d)
	return f.reg.Counts(), f.google.requests.Load() - before
}

// Requests per check with a service-account key (the real JWT-bearer flow
// of golang.org/x/oauth2/google against a loopback token endpoint): cold,
// one token request and one HEAD; steady, in any repository, one HEAD; past
// 80 % of the token's hour, one token request and one HEAD again; never a
// /v2/ probe or a refused request.
func TestServiceAccountKeyRequestsPerCheck(t *testing.T) {
	f := setup(t)
	b := f.open(t, map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": f.google.keyFile(t)}, nil)
	head := registrytest.Counts{Head: 1}

	steps := []struct {
		name    string
		advance time.Duration
		repo    string
		tokens  int64
	}{
		{"cold", 0, "app", 1},
		{"steady", time.Minute, "app", 0},
		{"steady, other repository", time.Minute, "worker", 0},
		{"steady, 40 min on", 38 * time.Minute, "app", 0},
		{"ahead of expiry (80 % of the hour)", 9 * time.Minute, "worker", 1},
		{"steady after refresh", time.Minute, "app", 0},
		{"long after every token expired", 3 * time.Hour, "app", 1},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		counts, tokens := f.check(t, b, s.repo)
		assert.Equal(t, head, counts, s.name)
		assert.Equal(t, s.tokens, tokens, s.name)
	}
	assert.Zero(t, f.refused.Load(), "no refused request, no /v2/ probe")

	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "oauth2accesstoken", cred.Username)
	assert.True(t, f.google.live(cred.Password), "a Docker client gets the live access token as password")
	for _, tok := range f.google.tokens() {
		assert.NotContains(t, f.logs.String(), tok, "no access token in the logs")
	}
}

// On Compute Engine and GKE the token comes from the metadata server
// (redirected with GCE_METADATA_HOST); its log lines reach the backend's
// logger at debug level without the token.
func TestMetadataServer(t *testing.T) {
	f := setup(t)
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(f.google.srv.URL, "http://"))
	b := f.open(t, map[string]string{}, nil)

	counts, tokens := f.check(t, b, "app")
	assert.Equal(t, registrytest.Counts{Head: 1}, counts)
	assert.Equal(t, int64(1), tokens)
	counts, tokens = f.check(t, b, "worker")
	assert.Equal(t, registrytest.Counts{Head: 1}, counts)
	assert.Zero(t, tokens)
	f.clock.Advance(50 * time.Minute)
	_, tokens = f.check(t, b, "app")
	assert.Equal(t, int64(1), tokens, "refreshed ahead of expiry")

	logs := f.logs.String()
	assert.Contains(t, logs, "gcp metadata: metadata response")
	assert.Contains(t, logs, "level=DEBUG")
	assert.NotContains(t, logs, "level=INFO")
	for _, tok := range f.google.tokens() {
		assert.NotContains(t, logs, tok)
	}
}

// Config.TokenSource replaces Application Default Credentials.
func TestTokenSource(t *testing.T) {
	f := setup(t)
	tok := f.google.issue(tokenLifetime)
	b := f.open(t, map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": filepath.Join(t.TempDir(), "absent.json")},
		&gar.Config{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})})
	for range 3 {
		counts, tokens := f.check(t, b, "app")
		assert.Equal(t, registrytest.Counts{Head: 1}, counts)
		assert.Zero(t, tokens, "no request to Google")
	}
}

// A token the registry stops taking (revoked) is fetched again once, and the
// check goes through.
func TestRefusedTokenFetchedAgain(t *testing.T) {
	f := setup(t)
	b := f.open(t, map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": f.google.keyFile(t)}, nil)
	_, _ = f.check(t, b, "app")
	f.google.mu.Lock()
	clear(f.google.issued)
	f.google.mu.Unlock()

	counts, tokens := f.check(t, b, "app")
	assert.Equal(t, registrytest.Counts{Head: 1}, counts, "the retry (the refused HEAD is counted in refused)")
	assert.Equal(t, int64(1), f.refused.Load(), "one refused HEAD")
	assert.Equal(t, int64(1), tokens, "one new token")
}

// Credential failures are typed, name the input and the fix, and quote no
// secret.
func TestCredentialErrors(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(notJSON, []byte(`{"type":"service_account","private_key":"secret-material"`), 0o600))
	// A key the token endpoint does not know: another account's.
	other := newGoogle(t, f.clock)
	wrongKey := other.keyFile(t)
	raw, err := os.ReadFile(wrongKey)
	require.NoError(t, err)
	wrongKey = filepath.Join(dir, "wrong.json")
	require.NoError(t, os.WriteFile(wrongKey, []byte(strings.ReplaceAll(string(raw), other.srv.URL, f.google.srv.URL)), 0o600))

	tests := []struct {
		name     string
		path     string
		kind     error
		contains []string
	}{
		{"missing file", filepath.Join(dir, "absent.json"), registry.ErrInvalidConfig, []string{"GOOGLE_APPLICATION_CREDENTIALS", "absent.json", "no such file"}},
		{"not a credentials file", notJSON, registry.ErrInvalidConfig, []string{"bad.json", "service-account key"}},
		{"key refused by Google", wrongKey, registry.ErrUnauthorized, []string{"400", "GOOGLE_APPLICATION_CREDENTIALS", "roles/artifactregistry.reader"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := f.open(t, map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": tc.path}, nil)
			_, err := b.ManifestDigest(context.Background(), "app", "latest")
			require.ErrorIs(t, err, tc.kind)
			for _, s := range tc.contains {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "secret-material")
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

// The built-in driver list selects gar for Artifact Registry hosts by name,
// with no I/O.
func TestDriverClaimsHosts(t *testing.T) {
	for _, prefix := range []string{"us-docker.pkg.dev/project/images", "europe-west1-docker.pkg.dev/p/r", "gcr.io/project", "eu.gcr.io/project"} {
		b, err := backends.Open(prefix, &registry.Options{Env: registry.EnvMap(map[string]string{})})
		require.NoError(t, err, prefix)
		assert.Equal(t, registry.FlavorGAR, b.Flavor(), prefix)
	}
}
