package engine_test

import (
	"testing"

	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FromEnv reads the prefix and the flavor from the environment and chooses
// among the drivers it is given, as backends.FromEnv does among all.
func TestFromEnvWithAnExplicitDriverList(t *testing.T) {
	lean := []engine.Spec{ghcr.Driver(nil), gitea.Driver(nil), distribution.Driver()}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		opts   registry.Options
		prefix string
		flavor registry.Flavor
		err    error
	}{
		{"default prefix", nil, registry.Options{}, registry.DefaultPrefix, registry.FlavorGHCR, nil},
		{"prefix from the environment", map[string]string{"MOLECULE_IMAGE_REGISTRY": "ghcr.io/acme"}, registry.Options{}, "ghcr.io/acme", registry.FlavorGHCR, nil},
		{"flavor variable", map[string]string{"MOLECULE_IMAGE_REGISTRY": "git.example.com/acme", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "gitea"}, registry.Options{}, "git.example.com/acme", registry.FlavorGitea, nil},
		{"flavor option wins", map[string]string{"MOLECULE_IMAGE_REGISTRY": "git.example.com/acme", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "gitea"},
			registry.Options{Flavor: registry.FlavorDistribution}, "git.example.com/acme", registry.FlavorDistribution, nil},
		{"a flavor not listed", map[string]string{"MOLECULE_IMAGE_REGISTRY": "123456789012.dkr.ecr.us-east-2.amazonaws.com/acme", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "ecr"}, registry.Options{}, "", registry.FlavorUnknown, registry.ErrUnsupported},
		{"bad prefix", map[string]string{"MOLECULE_IMAGE_REGISTRY": "https://ghcr.io/acme"}, registry.Options{}, "", registry.FlavorUnknown, registry.ErrInvalidConfig},
		{"bad flavor", map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "quay-ish"}, registry.Options{}, "", registry.FlavorUnknown, registry.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Env = registry.EnvMap(tc.env)
			b, err := engine.FromEnv(lean, &o)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.prefix, b.Prefix())
			assert.Equal(t, tc.flavor, b.Flavor())
		})
	}
}
