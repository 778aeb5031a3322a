package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/moby/moby/client"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/examples/internal/engine"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := parseConfig(nil, env(nil))
	require.NoError(t, err)
	assert.False(t, cfg.enabled)
	assert.Equal(t, watch.DefaultInterval, cfg.interval)

	cfg, err = parseConfig([]string{"-interval", "30s"}, env(map[string]string{
		"IMAGE_AUTO_REFRESH": "true", "IMAGE_WATCH_RUNTIMES": "codex, langgraph", "IMAGE_WATCH_PLATFORM": "linux/arm64", "IMAGE_WATCH_INTERVAL": "1h",
		"IMAGE_WATCH_FLEET": "rediss://:pw@redis.internal:6380/2",
	}))
	require.NoError(t, err)
	assert.True(t, cfg.enabled)
	assert.Equal(t, 30*time.Second, cfg.interval, "the flag wins")
	assert.Equal(t, []string{"codex", "langgraph"}, cfg.runtimes)
	assert.Equal(t, "arm64", cfg.platform.Architecture)
	assert.Equal(t, "rediss://:pw@redis.internal:6380/2", cfg.fleet)
	assert.Equal(t, "rediss://:xxxxx@redis.internal:6380/2", redactedURL(cfg.fleet), "logged without its password")

	for _, bad := range []map[string]string{
		{"IMAGE_WATCH_RUNTIMES": "Not Valid"}, {"IMAGE_WATCH_INTERVAL": "soon"}, {"IMAGE_WATCH_PLATFORM": "linux"},
	} {
		_, err := parseConfig(nil, env(bad))
		assert.Error(t, err, bad)
	}
}

// A re-push is pulled by digest and its containers recreated.
func TestChangeIsPulledAndRecreated(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()
	img, _ := random.Image(32, 1)
	_, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	image, _ := registry.RuntimeImage(b, "codex")

	eng := registrytest.NewDockerEngine(registrytest.DockerContainer{ID: "c1", Name: "ws-codex", Image: image, Running: true})
	defer eng.Close()
	docker, err := client.New(client.WithHost(eng.DockerHost()), client.WithAPIVersion("1.47"))
	require.NoError(t, err)
	defer docker.Close()
	w, err := newWatcher(context.Background(), b, &engine.Refresher{Engine: docker, Backend: b}, config{interval: time.Minute, runtimes: []string{"codex"}}, slog.New(slog.DiscardHandler), nil, nil)
	require.NoError(t, err)

	ctx := context.Background()
	evs := w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Seed, evs[0].Kind)
	assert.Empty(t, eng.Pulls(), "seeding pulls nothing")

	img2, _ := random.Image(32, 1)
	h, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img2)
	require.NoError(t, err)
	evs = w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind)
	pulls := eng.Pulls()
	require.Len(t, pulls, 1)
	assert.Equal(t, h.String(), pulls[0].Tag, "pulled by the digest seen")
	assert.Empty(t, pulls[0].RegistryAuth, "anonymous access: no X-Registry-Auth header")
	cs := eng.Containers()
	assert.NotEqual(t, "c1", cs["ws-codex"].ID)
	assert.True(t, cs["ws-codex"].Running)

	// A failing pull rolls back: the next tick tries again.
	img3, _ := random.Image(32, 1)
	_, err = srv.Push("molecule-ai/workspace-template-codex", "latest", img3)
	require.NoError(t, err)
	eng.FailPull(srv.Host()+"/molecule-ai/workspace-template-codex", "toomanyrequests")
	evs = w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Failed, evs[0].Kind)
	assert.Equal(t, h.String(), w.Seen()[image])
}

// A build published while imagewatch was down refreshes on the first check:
// the watcher is seeded with the digest the Engine has.
func TestSeededFromTheEngine(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()
	img, _ := random.Image(32, 1)
	h, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	image, _ := registry.RuntimeImage(b, "codex")

	eng := registrytest.NewDockerEngine()
	defer eng.Close()
	eng.SetImage(image, "sha256:"+strings.Repeat("0", 64)) // the build it ran before the restart
	docker, err := client.New(client.WithHost(eng.DockerHost()), client.WithAPIVersion("1.47"))
	require.NoError(t, err)
	defer docker.Close()
	w, err := newWatcher(context.Background(), b, &engine.Refresher{Engine: docker, Backend: b}, config{interval: time.Minute, runtimes: []string{"codex", "langgraph"}}, slog.New(slog.DiscardHandler), nil, nil)
	require.NoError(t, err)
	evs := w.Check(context.Background())
	kinds := map[string]watch.Kind{}
	for _, ev := range evs {
		kinds[ev.Image.Runtime] = ev.Kind
	}
	assert.Equal(t, watch.Changed, kinds["codex"], "seeded from the Engine, so the first check refreshes")
	assert.Equal(t, watch.Failed, kinds["langgraph"], "not in the registry: an error, not a seed")
	require.Len(t, eng.Pulls(), 1)
	assert.Equal(t, h.String(), eng.Pulls()[0].Tag)
}
