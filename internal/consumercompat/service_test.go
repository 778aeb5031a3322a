package consumercompat

import (
	"context"
	"log/slog"
	"os/exec"
	"testing"

	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The module system kept the service's pins: with registrykit required, the
// build list still selects the versions the service's go.mod names (go mod
// tidy -diff, run by CI, shows nothing to change either).
func TestPinsHold(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Version}}",
		"github.com/docker/docker", "github.com/docker/go-connections").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "github.com/docker/docker v28.2.2+incompatible\ngithub.com/docker/go-connections v0.6.0\n", string(out))

	out, err = exec.Command("go", "list", "-m", "-f", "{{.GoVersion}}").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "1.25.0\n", string(out), "this module, like the service, declares go 1.25.0")
}

// pull is one pull the test kit's Docker Engine received, its
// X-Registry-Auth decoded by docker/docker's own DecodeAuthConfig.
type pull struct {
	image   string
	hasAuth bool
	auth    dockerregistry.AuthConfig
}

func recorded(t *testing.T, eng *registrytest.DockerEngine) []pull {
	t.Helper()
	var out []pull
	for _, p := range eng.Pulls() {
		rec := pull{image: p.FromImage + ":" + p.Tag, hasAuth: p.RegistryAuth != ""}
		if rec.hasAuth {
			a, err := dockerregistry.DecodeAuthConfig(p.RegistryAuth)
			require.NoError(t, err)
			rec.auth = *a
		}
		out = append(out, rec)
	}
	return out
}

// newDocker returns the service's Docker client (docker/docker v28.2.2)
// talking to the test kit's Docker Engine.
func newDocker(t *testing.T) (*client.Client, *registrytest.DockerEngine) {
	t.Helper()
	eng := registrytest.NewDockerEngine()
	t.Cleanup(eng.Close)
	docker, err := client.NewClientWithOpts(client.WithHost(eng.DockerHost()), client.WithVersion("1.47"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = docker.Close() })
	return docker, eng
}

func TestPullWithTheBackendsCredential(t *testing.T) {
	reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, Users: map[string]string{"bot": "gitea-token-0123"}})
	defer reg.Close()
	docker, eng := newDocker(t)
	env := registry.EnvMap(map[string]string{
		"MOLECULE_IMAGE_REGISTRY": reg.Host() + "/molecule-ai", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "gitea",
		"GITEA_USER": "bot", "GITEA_TOKEN": "gitea-token-0123",
	})
	s, err := New(env, docker, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, s.Pull(context.Background(), "my-new-runtime"))
	require.NoError(t, s.PullImage(context.Background(), "quay.io/someone/else:1.0"))

	pulls := recorded(t, eng)
	require.Len(t, pulls, 2)
	assert.Equal(t, reg.Host()+"/molecule-ai/workspace-template-my-new-runtime:latest", pulls[0].image)
	assert.Equal(t, dockerregistry.AuthConfig{Username: "bot", Password: "gitea-token-0123", ServerAddress: reg.Host()}, pulls[0].auth)
	assert.Equal(t, "quay.io/someone/else:1.0", pulls[1].image)
	assert.False(t, pulls[1].hasAuth, "the backend's credential never goes to another registry")
	assert.Zero(t, reg.Counts().Total(), "a pull through the Engine costs the registry nothing here")
}

func TestAnonymousPullSendsNoHeader(t *testing.T) {
	docker, eng := newDocker(t)
	s, err := New(registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "127.0.0.1:5999/molecule-ai", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "distribution"}),
		docker, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, s.Pull(context.Background(), "langgraph"))
	pulls := recorded(t, eng)
	require.Len(t, pulls, 1)
	assert.False(t, pulls[0].hasAuth)
}

// The watcher over the test kit's fake backend: seed, then a moved digest
// pulls that runtime's image.
func TestWatcherPullsWhatMoved(t *testing.T) {
	docker, eng := newDocker(t)
	fake := registrytest.NewBackend("ghcr.io/molecule-ai")
	for _, rt := range Runtimes {
		fake.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt))
	}
	s := &Service{Backend: fake, Docker: docker, Log: slog.New(slog.DiscardHandler)}
	w, err := s.Watcher(&watch.Options{Clock: registrytest.NewClock(testStart)})
	require.NoError(t, err)
	ctx := context.Background()
	seeds := w.Check(ctx)
	require.Len(t, seeds, len(Runtimes), "one seed per runtime")
	for _, ev := range seeds {
		assert.Equal(t, watch.Seed, ev.Kind)
	}
	fake.SetDigest("workspace-template-claude-code", "latest", registrytest.Digest("claude-code v2"))
	evs := w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind)
	pulls := recorded(t, eng)
	require.Len(t, pulls, 1)
	assert.Equal(t, "ghcr.io/molecule-ai/workspace-template-claude-code:latest", pulls[0].image)
}
