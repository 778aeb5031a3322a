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
	lean := []engine.Spec{ghcr.Driver(), gitea.Driver(), distribution.Driver()}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		opts   []registry.Option
		prefix string
		flavor registry.Flavor
		err    error
	}{
		{"default prefix", nil, nil, registry.DefaultPrefix, registry.FlavorGHCR, nil},
		{"prefix from the environment", map[string]string{registry.EnvRegistry: "ghcr.io/acme"}, nil, "ghcr.io/acme", registry.FlavorGHCR, nil},
		{"flavor variable", map[string]string{registry.EnvRegistry: "git.example.com/acme", registry.EnvFlavor: "gitea"}, nil, "git.example.com/acme", registry.FlavorGitea, nil},
		{"flavor option wins", map[string]string{registry.EnvRegistry: "git.example.com/acme", registry.EnvFlavor: "gitea"},
			[]registry.Option{registry.WithFlavor(registry.FlavorDistribution)}, "git.example.com/acme", registry.FlavorDistribution, nil},
		{"a flavor not listed", map[string]string{registry.EnvRegistry: "123456789012.dkr.ecr.us-east-2.amazonaws.com/acme", registry.EnvFlavor: "ecr"}, nil, "", registry.FlavorUnknown, registry.ErrUnsupported},
		{"bad prefix", map[string]string{registry.EnvRegistry: "https://ghcr.io/acme"}, nil, "", registry.FlavorUnknown, registry.ErrInvalidConfig},
		{"bad flavor", map[string]string{registry.EnvFlavor: "quay-ish"}, nil, "", registry.FlavorUnknown, registry.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := engine.FromEnv(lean, append([]registry.Option{registry.WithEnvMap(tc.env)}, tc.opts...)...)
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
