package gitea_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	user  = "bot"
	token = "gitea_0123456789abcdef0123456789abcdef"
)

var repos = []string{"workspace-template-langgraph", "workspace-template-autogen", "workspace-template-codex"}

func setup(t *testing.T) (*registrytest.Server, *registrytest.Clock, map[string]string) {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, Users: map[string]string{user: token}, Now: clock.Now})
	t.Cleanup(srv.Close)
	digests := map[string]string{}
	for _, repo := range repos {
		img, err := random.Image(128, 1)
		require.NoError(t, err)
		h, err := srv.Push("molecule-ai/"+repo, "latest", img)
		require.NoError(t, err)
		digests[repo] = h.String()
	}
	return srv, clock, digests
}

func credentials() authn.Source {
	return authn.Static(authn.Credential{Username: user, Password: token})
}

func TestProbedGitea(t *testing.T) {
	srv, clock, digests := setup(t)
	ctx := context.Background()
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Credentials: credentials(), Clock: clock})
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorUnknown, b.Flavor(), "not probed before the first request")

	d, err := b.ManifestDigest(ctx, repos[0], "latest")
	require.NoError(t, err)
	assert.Equal(t, digests[repos[0]], d)
	assert.Equal(t, registrytest.Counts{Ping: 1, Head: 1}, srv.Counts(), "probed cold check: ping + HEAD with Basic credentials, no token")
	assert.Equal(t, registry.FlavorGitea, b.Flavor(), "the challenge's service=container_registry selects Gitea")

	srv.ResetCounts()
	for _, repo := range repos[1:] {
		d, err := b.ManifestDigest(ctx, repo, "latest")
		require.NoError(t, err)
		assert.Equal(t, digests[repo], d)
	}
	assert.Equal(t, registrytest.Counts{Head: 2}, srv.Counts(), "a new repository costs one HEAD")
}

func TestForcedGiteaNeedsNoProbe(t *testing.T) {
	srv, clock, _ := setup(t)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Credentials: credentials(), Clock: clock, Flavor: registry.FlavorGitea})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), repos[0], "latest")
	require.NoError(t, err)
	assert.Equal(t, registrytest.Counts{Head: 1}, srv.Counts(), "Basic credentials on /v2/: one request")

	srv.ResetCounts()
	b, err = backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Credentials: credentials(), Clock: clock, Flavor: registry.FlavorGitea}, gitea.Driver(&gitea.Config{TokenService: true}))
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), repos[0], "latest")
	require.NoError(t, err)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 1}, srv.Counts(), "the token service: known realm, no probe")
}

func TestTokenLifetimeFromJWT(t *testing.T) {
	srv, clock, _ := setup(t)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Credentials: credentials(), Clock: clock, Flavor: registry.FlavorGitea}, gitea.Driver(&gitea.Config{TokenService: true}))
	require.NoError(t, err)
	ctx := context.Background()
	// A day of checks every 5 minutes: the 24 h JWT (no expires_in) must be
	// cached for most of its life, not for the spec's default 60 s.
	for range 24 * 12 {
		_, err := b.ManifestDigest(ctx, repos[0], "latest")
		require.NoError(t, err)
		clock.Advance(5 * time.Minute)
	}
	c := srv.Counts()
	assert.Equal(t, int64(2), c.Token, "one token per 80%% of 24 h")
	assert.Zero(t, c.Rejected)
	tok, err := b.Token(ctx, repos[0])
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.Type())
	// The day's second token, fetched at the first check past 80 % of the
	// first one's life (19 h 15 min), lives 24 h from then; JWT exp is in
	// whole seconds.
	assert.WithinDuration(t, clock.Now().Add(-24*time.Hour+19*time.Hour+15*time.Minute+24*time.Hour), tok.Expiry, time.Second)
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	srv, clock, _ := setup(t)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Clock: clock, Flavor: registry.FlavorGitea, Credentials: authn.Static(authn.Credential{Username: user, Password: "wrong-secret-value"})})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), repos[0], "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), gitea.EnvToken)
	assert.NotContains(t, err.Error(), "wrong-secret-value")
}

// tokenStub answers every request with a token, recording where it went.
type tokenStub struct {
	challenge *registry.Challenge // what /v2/ answers
	hosts     []string            // where token requests went
}

func (s *tokenStub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/v2/" {
		c := s.challenge
		h := http.Header{}
		h.Set("WWW-Authenticate", fmt.Sprintf(`%s realm=%q,service=%q`, c.Scheme, c.Params["realm"], c.Params["service"]))
		return &http.Response{StatusCode: http.StatusUnauthorized, Header: h, Request: r, Body: http.NoBody}, nil
	}
	s.hosts = append(s.hosts, r.URL.Host)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"token":"t"}`))}, nil
}

// openWithChallenge opens a Gitea backend whose probe answers c, through a
// transport that never leaves the process, and asks for a token: the realm
// rule runs before anything is sent.
func openWithChallenge(t *testing.T, prefix string, c *registry.Challenge, realmHosts ...string) (*tokenStub, error) {
	t.Helper()
	stub := &tokenStub{challenge: c}
	b, err := engine.Open(registry.MustParsePrefix(prefix), []engine.Spec{gitea.Driver(&gitea.Config{TokenService: true, RealmHosts: realmHosts})},
		&registry.Options{HTTPClient: &http.Client{Transport: stub}, Credentials: credentials()})
	require.NoError(t, err, "Open does no I/O and checks nothing remote")
	_, err = b.Token(context.Background(), "app")
	return stub, err
}

// Gitea's default ROOT_URL says localhost; a client reaching it as
// 127.0.0.1 on the same port is talking to the same machine.
func TestLoopbackAliasRealm(t *testing.T) {
	c := &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": "http://localhost:3000/v2/token", "service": gitea.Service}}
	stub, err := openWithChallenge(t, "127.0.0.1:3000/org", c)
	require.NoError(t, err)
	assert.Equal(t, []string{"localhost:3000"}, stub.hosts)
	c.Params["realm"] = "http://localhost:3001/v2/token"
	stub, err = openWithChallenge(t, "127.0.0.1:3000/org", c)
	require.ErrorIs(t, err, registry.ErrInsecure, "another port is another server")
	assert.Empty(t, stub.hosts)
}

func TestCheckRealmExplainsRootURL(t *testing.T) {
	cases := map[string]string{
		"https://other.example/v2/token":       "another host",
		"http://git.example.com/v2/token":      "plain http for an https registry",
		"https://git.example.com/v2/token":     "",
		"https://git.example.com:443/v2/token": "",
		"https://GIT.example.com./v2/token":    "",
	}
	for realm, want := range cases {
		t.Run(realm, func(t *testing.T) {
			c := &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": realm, "service": gitea.Service}}
			stub, err := openWithChallenge(t, "git.example.com/org", c)
			if want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, registry.ErrInsecure)
			assert.Empty(t, stub.hosts, "nothing sent to a refused realm")
			assert.Contains(t, err.Error(), want)
			assert.Contains(t, err.Error(), "ROOT_URL")
			assert.Contains(t, err.Error(), "gitea.Config.RealmHosts")
		})
	}
}

// A Gitea behind a proxy name announces its ROOT_URL's host: refused by
// default, accepted over HTTPS once the operator names it.
func TestRealmHostAllowedByTheOperator(t *testing.T) {
	c := &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": "https://gitea.internal.example/v2/token", "service": gitea.Service}}
	_, err := openWithChallenge(t, "git.example.com/org", c)
	require.ErrorIs(t, err, registry.ErrInsecure)
	stub, err := openWithChallenge(t, "git.example.com/org", c, "gitea.internal.example")
	require.NoError(t, err)
	assert.Equal(t, []string{"gitea.internal.example"}, stub.hosts)

	c.Params["realm"] = "http://gitea.internal.example/v2/token"
	_, err = openWithChallenge(t, "git.example.com/org", c, "gitea.internal.example")
	require.ErrorIs(t, err, registry.ErrInsecure, "over HTTPS only")
}

func TestDockerCredentialIsTheToken(t *testing.T) {
	srv, _, _ := setup(t)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGitea, Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", gitea.EnvUser: user, gitea.EnvToken: token})})
	require.NoError(t, err)
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: user, Password: token}, cred)
}

// Credentials from the environment go only to the registry
// MOLECULE_IMAGE_REGISTRY configures: a backend opened for another host
// (registryctl digest otherhost/img) presents nothing from them.
func TestEnvironmentCredentialsStayWithTheConfiguredRegistry(t *testing.T) {
	mine, _, _ := setup(t)
	var sawAuth atomic.Int32
	other := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, AllowAnonymous: true,
		Intercept: func(_ http.ResponseWriter, r *http.Request) bool {
			if strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
				sawAuth.Add(1) // a credential; the anonymous bearer token the host itself issued is fine
			}
			return false // observe only
		}})
	defer other.Close()
	env := map[string]string{"MOLECULE_IMAGE_REGISTRY": mine.Host() + "/molecule-ai", gitea.EnvUser: user, gitea.EnvToken: token,
		"MOLECULE_IMAGE_REGISTRY_USER": "generic", "MOLECULE_IMAGE_REGISTRY_TOKEN": "generic-secret"}

	b, err := backends.Open(other.Host()+"/molecule-ai", &registry.Options{Env: registry.EnvMap(env)})
	require.NoError(t, err)
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.True(t, cred.IsAnonymous(), "another host gets neither GITEA_* nor the generic variables")
	_, err = b.ManifestDigest(context.Background(), "nothing-here", "latest")
	require.ErrorIs(t, err, registry.ErrNotFound)
	assert.Zero(t, sawAuth.Load(), "no credential reached the other host")

	b, err = backends.Open(mine.Host()+"/molecule-ai", &registry.Options{Env: registry.EnvMap(env)})
	require.NoError(t, err)
	cred, err = b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: user, Password: token}, cred, "the flavor's own variables win over the generic ones")

	delete(env, gitea.EnvUser)
	delete(env, gitea.EnvToken)
	b, err = backends.Open(mine.Host()+"/molecule-ai", &registry.Options{Env: registry.EnvMap(env)})
	require.NoError(t, err)
	cred, err = b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: "generic", Password: "generic-secret"}, cred, "the generic variables serve any flavor")
}
