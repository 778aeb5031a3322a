package backends_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/internal/testregistry"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromEnvSelectsByHost(t *testing.T) {
	cases := map[string]registry.Flavor{
		"":                    registry.FlavorGHCR,
		"ghcr.io/molecule-ai": registry.FlavorGHCR,
		"123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai": registry.FlavorECR,
		"public.ecr.aws/a1b2c3d4":                                  registry.FlavorECRPublic,
		"docker.io/molecule":                                       registry.FlavorDistribution,
	}
	for prefix, want := range cases {
		t.Run(prefix, func(t *testing.T) {
			b, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvRegistry: prefix}))
			require.NoError(t, err)
			assert.Equal(t, want, b.(registry.Flavored).Flavor())
			p := registry.MustParsePrefix(prefix)
			assert.Equal(t, p.Host(), b.Host())
			assert.Equal(t, p.String(), b.Prefix())
		})
	}
}

func TestFromEnvProbesUnknownHosts(t *testing.T) {
	for mode, want := range map[testregistry.Mode]registry.Flavor{
		testregistry.Gitea:        registry.FlavorGitea,
		testregistry.Distribution: registry.FlavorDistribution,
		testregistry.Basic:        registry.FlavorDistribution,
		testregistry.Anonymous:    registry.FlavorDistribution,
	} {
		srv := testregistry.New(testregistry.Config{Mode: mode})
		b, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvRegistry: srv.Host() + "/org"}))
		require.NoError(t, err)
		assert.Equal(t, want, b.(registry.Flavored).Flavor(), mode)
		assert.Equal(t, int64(1), srv.Counts().Ping, "one probe")
		srv.Close()
	}
}

func TestFromEnvForcedFlavorSkipsProbe(t *testing.T) {
	srv := testregistry.New(testregistry.Config{Mode: testregistry.Gitea})
	defer srv.Close()
	b, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{
		registry.EnvRegistry: srv.Host() + "/org", registry.EnvFlavor: "GITEA",
	}))
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, b.(registry.Flavored).Flavor())
	assert.Zero(t, srv.Counts().Total())
}

func TestFromEnvErrors(t *testing.T) {
	_, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvRegistry: "https://ghcr.io/x"}))
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	_, err = backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvFlavor: "harbor"}))
	require.ErrorIs(t, err, registry.ErrUnknownFlavor)
	// A host nobody answers on: the probe's failure is typed.
	_, err = backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvRegistry: "127.0.0.1:1/org"}), registry.WithMaxTries(1))
	require.ErrorIs(t, err, registry.ErrUnavailable)
}

func TestOpenResolvesRuntimeImage(t *testing.T) {
	srv := testregistry.New(testregistry.Config{Mode: testregistry.GHCR, AllowAnonymous: true})
	defer srv.Close()
	img, _ := random.Image(16, 1)
	h, err := srv.Push("org/workspace-template-langgraph", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(context.Background(), srv.Host()+"/org", registry.WithFlavor(registry.FlavorGHCR), registry.WithEnvMap(nil))
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
	b, err := backends.Open(context.Background(), "123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai")
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
	b, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Prefix(), b.(registry.Flavored).Flavor())
	// Output: ghcr.io/molecule-ai ghcr
}

// A malformed prefix is refused with an error that quotes it and says the fix.
func ExampleFromEnv_badPrefix() {
	_, err := backends.FromEnv(context.Background(), registry.WithEnvMap(map[string]string{registry.EnvRegistry: "https://ghcr.io/molecule-ai"}))
	fmt.Println(err)
	// Output: invalid MOLECULE_IMAGE_REGISTRY "https://ghcr.io/molecule-ai": has a URL scheme; remove "https://"; set MOLECULE_IMAGE_REGISTRY to host[:port][/path], e.g. ghcr.io/molecule-ai
}
