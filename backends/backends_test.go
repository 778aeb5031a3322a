package backends_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/molecule-ai/registrykit/internal/faultinject"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromEnvSelectsByHost(t *testing.T) {
	cases := map[string]registry.Flavor{
		"":                    registry.FlavorGHCR,
		"ghcr.io/molecule-ai": registry.FlavorGHCR,
		"123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai": registry.FlavorECR,
		"public.ecr.aws/a1b2c3d4":                                  registry.FlavorECRPublic,
		"contoso.azurecr.io/team":                                  registry.FlavorACR,
		"docker.io/molecule":                                       registry.FlavorDistribution,
	}
	for prefix, want := range cases {
		t.Run(prefix, func(t *testing.T) {
			b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": prefix})})
			require.NoError(t, err)
			assert.Equal(t, want, b.Flavor())
			p := registry.MustParsePrefix(prefix)
			assert.Equal(t, p.Host(), b.Host())
			assert.Equal(t, p.String(), b.Prefix())
		})
	}
}

func TestFromEnvProbesUnknownHosts(t *testing.T) {
	for mode, want := range map[registrytest.Mode]registry.Flavor{
		registrytest.Gitea:        registry.FlavorGitea,
		registrytest.Distribution: registry.FlavorDistribution,
		registrytest.Basic:        registry.FlavorDistribution,
		registrytest.Anonymous:    registry.FlavorDistribution,
	} {
		srv := registrytest.NewServer(registrytest.Config{Mode: mode})
		b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/org"})})
		require.NoError(t, err)
		assert.Zero(t, srv.Counts().Total(), "construction does no I/O")
		_, err = b.Discover(context.Background())
		f := b.Flavor()
		require.NoError(t, err)
		assert.Equal(t, want, f, mode)
		assert.Equal(t, want, b.Flavor(), mode)
		assert.Equal(t, int64(1), srv.Counts().Ping, "one probe")
		srv.Close()
	}
}

func TestFromEnvForcedFlavorSkipsProbe(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea})
	defer srv.Close()
	b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{
		"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/org", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "GITEA",
	})})
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, b.Flavor())
	assert.Zero(t, srv.Counts().Total())
}

func TestFromEnvErrors(t *testing.T) {
	_, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "https://ghcr.io/x"})})
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	_, err = backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "harbor"})})
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	_, err = backends.Open("git.example.com/org", &registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "harbor"})})
	require.ErrorIs(t, err, registry.ErrInvalidConfig, "Open honours the flavor variable as FromEnv does")
	// A host nobody answers on: construction succeeds, the first request's
	// probe fails with a typed error.
	b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "127.0.0.1:1/org"}), MaxTries: 1})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrUnavailable)
}

func TestOpenHonoursTheFlavorVariable(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea})
	defer srv.Close()
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "gitea"})})
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, b.Flavor())
	b, err = backends.Open(srv.Host()+"/org", &registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "gitea"}), Flavor: registry.FlavorDistribution})
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorDistribution, b.Flavor(), "an explicit option wins")
	assert.Zero(t, srv.Counts().Total())
}

// A registry that is down when the program starts: the backend is usable at
// once, checks fail with a typed error while it is down, and the first check
// after it recovers probes, selects the driver and resolves the digest.
func TestProbedRegistryDownAtStartCatchesUp(t *testing.T) {
	var faults faultinject.Injector
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, AllowAnonymous: true, Intercept: faults.Intercept})
	defer srv.Close()
	img, _ := random.Image(16, 1)
	h, err := srv.Push("org/app", "latest", img)
	require.NoError(t, err)
	faults.Add(faultinject.AnyRequest, -1, faultinject.Status(http.StatusServiceUnavailable))

	b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/org"}), MaxTries: 1})
	require.NoError(t, err)
	for range 2 {
		_, err = b.ManifestDigest(context.Background(), "app", "latest")
		require.ErrorIs(t, err, registry.ErrUnavailable)
	}
	assert.Equal(t, registry.FlavorUnknown, b.Flavor(), "not selected yet")
	faults.Clear() // the registry comes back
	d, err := b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, h.String(), d)
	assert.Equal(t, registry.FlavorGitea, b.Flavor())
}

// A probed backend's first check reuses the probe's connection: registry.Open
// gives the probe and the backend it selects one transport, whether the
// caller opens through package backends or registry.Open.
func TestProbeAndBackendShareAConnection(t *testing.T) {
	open := map[string]func(prefix string) (registry.Backend, error){
		"backends.Open": func(prefix string) (registry.Backend, error) {
			return backends.Open(prefix, &registry.Options{Env: registry.EnvMap(nil)})
		},
		"registry.Open": func(prefix string) (registry.Backend, error) {
			return engine.Open(registry.MustParsePrefix(prefix), backends.Drivers(), nil)
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, AllowAnonymous: true})
			defer srv.Close()
			img, _ := random.Image(16, 1)
			_, err := srv.Push("org/app", "latest", img)
			require.NoError(t, err)
			b, err := open(srv.Host() + "/org")
			require.NoError(t, err)
			_, err = b.ManifestDigest(context.Background(), "app", "latest")
			require.NoError(t, err)
			assert.Equal(t, registrytest.Counts{Ping: 1, Token: 1, Head: 1}, srv.Counts())
			assert.Equal(t, int64(1), srv.Conns(), "probe, token and HEAD on one connection")
		})
	}
}

func TestOpenResolvesRuntimeImage(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()
	img, _ := random.Image(16, 1)
	h, err := srv.Push("org/workspace-template-langgraph", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	img2, err := registry.RuntimeImage(b, registry.DefaultRuntime)
	require.NoError(t, err)
	assert.Equal(t, srv.Host()+"/org/workspace-template-langgraph:latest", img2)
	d, err := b.ManifestDigest(context.Background(), "workspace-template-langgraph", "latest")
	require.NoError(t, err)
	assert.Equal(t, h.String(), d)
}

// Opening a backend does no I/O for hosts whose flavor the name tells.
func ExampleOpen() {
	b, err := backends.Open("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := registry.RuntimeImage(b, "langgraph")
	fmt.Println(b.Host())
	fmt.Println(img)
	// Output:
	// 123456789012.dkr.ecr.us-east-2.amazonaws.com
	// 123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai/workspace-template-langgraph:latest
}

// FromEnv reads MOLECULE_IMAGE_REGISTRY (here from a map instead of the
// process environment), defaulting to ghcr.io/molecule-ai.
func ExampleFromEnv() {
	b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Prefix(), b.Flavor())
	// Output: ghcr.io/molecule-ai ghcr
}

// A malformed prefix is refused with an error that quotes it and says the fix.
func ExampleFromEnv_badPrefix() {
	_, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "https://ghcr.io/molecule-ai"})})
	fmt.Println(err)
	// Output: invalid MOLECULE_IMAGE_REGISTRY "https://ghcr.io/molecule-ai": has a URL scheme; remove "https://"; set MOLECULE_IMAGE_REGISTRY to host[:port][/path], e.g. ghcr.io/molecule-ai
}

// Docker's config is read through the environment given by every backend
// that backends.Open and backends.FromEnv open with a default credential
// chain, and left out with registry.WithoutDockerConfig.
func TestDockerConfigInTheChain(t *testing.T) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("dock:er-secret"))
	cfg := `{"auths":{"reg.example.com":{"auth":"` + auth + `"},"ghcr.io":{"auth":"` + auth + `"}}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	cases := []struct {
		prefix string
		flavor registry.Flavor
	}{
		{"ghcr.io/org", registry.FlavorGHCR},
		{"reg.example.com/org", registry.FlavorGitea},
		{"reg.example.com/org", registry.FlavorGitLab},
		{"reg.example.com/org", registry.FlavorDistribution},
	}
	opens := []struct {
		name string
		open func(prefix string, o *registry.Options) (registry.Backend, error)
	}{
		{"Open", func(prefix string, o *registry.Options) (registry.Backend, error) { return backends.Open(prefix, o) }},
		{"FromEnv", func(_ string, o *registry.Options) (registry.Backend, error) { return backends.FromEnv(o) }},
	}
	for _, tc := range cases {
		for _, o := range opens {
			open := o.open
			t.Run(o.name+"/"+string(tc.flavor), func(t *testing.T) {
				// No credential variable is set: only Docker's config
				// can supply one.
				env := map[string]string{"DOCKER_CONFIG": dir, "MOLECULE_IMAGE_REGISTRY": tc.prefix}
				b, err := open(tc.prefix, &registry.Options{Flavor: tc.flavor, Env: registry.EnvMap(env)})
				require.NoError(t, err)
				require.Equal(t, tc.flavor, b.Flavor())
				c, err := b.Credential(context.Background())
				require.NoError(t, err)
				assert.Equal(t, "dock", c.Username)

				b, err = open(tc.prefix, &registry.Options{Flavor: tc.flavor, Env: registry.EnvMap(env), NoDockerConfig: true})
				require.NoError(t, err)
				c, err = b.Credential(context.Background())
				require.NoError(t, err)
				assert.True(t, c.IsAnonymous())
			})
		}
	}
}
