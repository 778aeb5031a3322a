package engine_test

import (
	"context"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Docker's config enters the default chain only through the loader
// registry.WithDockerConfig plugs in, read through the target's
// environment, after the environment variables and unless
// registry.WithoutDockerConfig leaves it out.
func TestDefaultCredentialsDockerConfigIsPluggedIn(t *testing.T) {
	// loader stands for dockerconfig.From: it yields a credential only when
	// the environment it is given points at a configuration.
	loader := func(lookup func(string) (string, bool)) authn.Source {
		return authn.SourceFunc(func(context.Context, string) (authn.Credential, error) {
			if dir, ok := lookup("DOCKER_CONFIG"); ok && dir == "/cfg" {
				return authn.Credential{Username: "from-docker-config", Password: "pw"}, nil
			}
			return authn.Credential{}, authn.ErrNoCredential
		})
	}
	env := map[string]string{"DOCKER_CONFIG": "/cfg", registry.EnvRegistry: "reg.example.com/org"}
	cases := []struct {
		name string
		opts []registry.Option
		want string // the user name, "" for anonymous
	}{
		{"no loader: no Docker config", []registry.Option{registry.WithEnvMap(env)}, ""},
		{"loader", []registry.Option{registry.WithEnvMap(env), registry.WithDockerConfig(loader)}, "from-docker-config"},
		{"loader reads the target's environment", []registry.Option{registry.WithEnvMap(map[string]string{}), registry.WithDockerConfig(loader)}, ""},
		{"WithoutDockerConfig wins", []registry.Option{registry.WithEnvMap(env), registry.WithDockerConfig(loader), registry.WithoutDockerConfig()}, ""},
		{"WithoutDockerConfig wins in any order", []registry.Option{registry.WithEnvMap(env), registry.WithoutDockerConfig(), registry.WithDockerConfig(loader)}, ""},
		{"environment variables first", []registry.Option{
			registry.WithEnvMap(map[string]string{"DOCKER_CONFIG": "/cfg", registry.EnvRegistry: "reg.example.com/org", registry.EnvUser: "from-env", registry.EnvToken: "tok"}),
			registry.WithDockerConfig(loader),
		}, "from-env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := engine.Target{Prefix: registry.MustParsePrefix("reg.example.com/org"), Options: registry.NewOptions(tc.opts...)}
			c, err := engine.DefaultCredentials(target, "", "").Resolve(context.Background(), "reg.example.com")
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Username)
		})
	}
}
