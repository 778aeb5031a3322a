package consumercompat

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
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

// engine is an imitation Docker Engine that records pulls, decoding
// X-Registry-Auth with docker/docker's own DecodeAuthConfig.
type engine struct {
	mu    sync.Mutex
	pulls []pull
}

type pull struct {
	image   string
	hasAuth bool
	auth    dockerregistry.AuthConfig
}

func (e *engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/images/create") {
		http.NotFound(w, r)
		return
	}
	p := pull{image: r.URL.Query().Get("fromImage") + ":" + r.URL.Query().Get("tag")}
	if h := r.Header.Get(dockerregistry.AuthHeader); h != "" {
		a, err := dockerregistry.DecodeAuthConfig(h)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.hasAuth, p.auth = true, *a
	}
	e.mu.Lock()
	e.pulls = append(e.pulls, p)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"Downloaded newer image"}` + "\n"))
}

func (e *engine) recorded() []pull {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]pull(nil), e.pulls...)
}

func newDocker(t *testing.T, e *engine) *client.Client {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	docker, err := client.NewClientWithOpts(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")), client.WithVersion("1.47"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = docker.Close() })
	return docker
}

func TestPullWithTheBackendsCredential(t *testing.T) {
	reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, Users: map[string]string{"bot": "gitea-token-0123"}})
	defer reg.Close()
	eng := &engine{}
	env := registry.EnvMap(map[string]string{
		registry.EnvRegistry: reg.Host() + "/molecule-ai", registry.EnvFlavor: "gitea",
		"GITEA_USER": "bot", "GITEA_TOKEN": "gitea-token-0123",
	})
	s, err := New(env, newDocker(t, eng), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, s.Pull(context.Background(), "my-new-runtime"))

	pulls := eng.recorded()
	require.Len(t, pulls, 1)
	assert.Equal(t, reg.Host()+"/molecule-ai/workspace-template-my-new-runtime:latest", pulls[0].image)
	assert.Equal(t, dockerregistry.AuthConfig{Username: "bot", Password: "gitea-token-0123", ServerAddress: reg.Host()}, pulls[0].auth)
	assert.Zero(t, reg.Counts().Total(), "a pull through the Engine costs the registry nothing here")
}

func TestAnonymousPullSendsNoHeader(t *testing.T) {
	eng := &engine{}
	s, err := New(registry.EnvMap(map[string]string{registry.EnvRegistry: "127.0.0.1:5999/molecule-ai", registry.EnvFlavor: "distribution"}),
		newDocker(t, eng), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, s.Pull(context.Background(), "langgraph"))
	pulls := eng.recorded()
	require.Len(t, pulls, 1)
	assert.False(t, pulls[0].hasAuth)
}

// The watcher over the test kit's fake backend: seed, then a moved digest
// pulls that runtime's image.
func TestWatcherPullsWhatMoved(t *testing.T) {
	eng := &engine{}
	fake := registrytest.NewBackend("ghcr.io/molecule-ai")
	for _, rt := range Runtimes {
		fake.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt))
	}
	s := &Service{Backend: fake, Docker: newDocker(t, eng), Log: slog.New(slog.DiscardHandler)}
	w, err := s.Watcher(watch.WithClock(registrytest.NewClock(testStart)))
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
	pulls := eng.recorded()
	require.Len(t, pulls, 1)
	assert.Equal(t, "ghcr.io/molecule-ai/workspace-template-claude-code:latest", pulls[0].image)
}
