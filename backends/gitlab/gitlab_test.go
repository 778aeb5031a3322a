package gitlab_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/gitlab"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	deployUser  = "gitlab+deploy-token-42"
	deployToken = "gldt-0123456789abcdefghij"
)

func gitlabServer(t *testing.T, clock *registrytest.Clock) (*registrytest.Server, map[string]string) {
	t.Helper()
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GitLab, Now: clock.Now,
		Users: map[string]string{deployUser: deployToken, "gitlab-ci-token": "job-token-0123456789"}})
	t.Cleanup(srv.Close)
	digests := map[string]string{}
	for _, repo := range []string{"app", "worker"} {
		img, err := random.Image(64, 1)
		require.NoError(t, err)
		h, err := srv.Push("group/project/"+repo, "latest", img)
		require.NoError(t, err)
		digests[repo] = h.String()
	}
	return srv, digests
}

// A self-managed GitLab is told from Gitea by its challenge, and costs a
// probe, a token and a HEAD cold, one HEAD steady; its token lives as long
// as the JWT's exp says (5 minutes).
func TestSelfManagedGitLab(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv, digests := gitlabServer(t, clock)
	prefix := srv.Host() + "/group/project"
	b, err := backends.FromEnv(&registry.Options{Clock: clock, Env: registry.EnvMap(map[string]string{
		"MOLECULE_IMAGE_REGISTRY": prefix, gitlab.EnvUser: deployUser, gitlab.EnvToken: deployToken})})
	require.NoError(t, err)
	ctx := context.Background()
	d, err := b.ManifestDigest(ctx, "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, digests["app"], d)
	assert.Equal(t, registry.FlavorGitLab, b.Flavor())
	assert.Equal(t, registrytest.Counts{Ping: 1, Token: 1, Head: 1}, srv.Counts())

	srv.ResetCounts()
	for range 4 {
		clock.Advance(time.Minute)
		_, err := b.ManifestDigest(ctx, "app", "latest")
		require.NoError(t, err)
	}
	c := srv.Counts()
	assert.Equal(t, int64(4), c.Head)
	assert.LessOrEqual(t, c.Token, int64(1), "the 5-minute JWT is refreshed ahead of expiry, not per check")
	assert.Zero(t, c.Rejected)
}

func TestGitLabAndGiteaAreToldApart(t *testing.T) {
	for mode, want := range map[registrytest.Mode]registry.Flavor{registrytest.GitLab: registry.FlavorGitLab, registrytest.Gitea: registry.FlavorGitea} {
		srv := registrytest.NewServer(registrytest.Config{Mode: mode})
		b, err := backends.Open(srv.Host()+"/org", &registry.Options{Env: registry.EnvMap(map[string]string{})})
		require.NoError(t, err)
		_, err = b.Discover(context.Background())
		f := b.Flavor()
		require.NoError(t, err)
		assert.Equal(t, want, f)
		srv.Close()
	}
}

// In a CI job the job token is used, for the instance's registry only.
func TestCIJobToken(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv, digests := gitlabServer(t, clock)
	env := map[string]string{
		gitlab.EnvCIRegistry: srv.Host(), gitlab.EnvCIRegistryUser: "gitlab-ci-token", gitlab.EnvCIRegistryPassword: "job-token-0123456789",
	}
	b, err := backends.Open(srv.Host()+"/group/project", &registry.Options{Flavor: registry.FlavorGitLab, Env: registry.EnvMap(env)})
	require.NoError(t, err)
	d, err := b.ManifestDigest(context.Background(), "worker", "latest")
	require.NoError(t, err)
	assert.Equal(t, digests["worker"], d)
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "gitlab-ci-token", cred.Username)

	other, err := backends.Open("127.0.0.1:1/group/project", &registry.Options{Flavor: registry.FlavorGitLab, Env: registry.EnvMap(env)})
	require.NoError(t, err)
	cred, err = other.Credential(context.Background())
	require.NoError(t, err)
	assert.True(t, cred.IsAnonymous(), "the job token goes to CI_REGISTRY only")
}

// GitLab answers an anonymous token request for a private project with 403
// DENIED: the error says how to authenticate.
func TestPrivateProjectWithoutCredentials(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv, _ := gitlabServer(t, clock)
	b, err := backends.Open(srv.Host()+"/group/project", &registry.Options{Flavor: registry.FlavorGitLab, Env: registry.EnvMap(map[string]string{}), Credentials: authn.Anonymous})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrDenied)
	assert.Contains(t, err.Error(), gitlab.EnvToken)
}

// registry.gitlab.com is known by name: its realm is gitlab.com's, and
// opening it costs nothing.
func ExampleDriver() {
	b, err := backends.Open("registry.gitlab.com/group/project", &registry.Options{Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	// Output: gitlab registry.gitlab.com
}
