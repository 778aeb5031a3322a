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
// Options.DockerConfig plugs in, read through the target's
// environment, after the environment variables and unless
// Options.NoDockerConfig leaves it out.
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
	env := map[string]string{"DOCKER_CONFIG": "/cfg", "MOLECULE_IMAGE_REGISTRY": "reg.example.com/org"}
	cases := []struct {
		name string
		opts registry.Options
		want string // the user name, "" for anonymous
	}{
		{"no loader: no Docker config", registry.Options{Env: registry.EnvMap(env)}, ""},
		{"loader", registry.Options{Env: registry.EnvMap(env), DockerConfig: loader}, "from-docker-config"},
		{"loader reads the target's environment", registry.Options{Env: registry.EnvMap(nil), DockerConfig: loader}, ""},
		{"NoDockerConfig wins", registry.Options{Env: registry.EnvMap(env), DockerConfig: loader, NoDockerConfig: true}, ""},
		{"environment variables first", registry.Options{
			Env:          registry.EnvMap(map[string]string{"DOCKER_CONFIG": "/cfg", "MOLECULE_IMAGE_REGISTRY": "reg.example.com/org", "MOLECULE_IMAGE_REGISTRY_USER": "from-env", "MOLECULE_IMAGE_REGISTRY_TOKEN": "tok"}),
			DockerConfig: loader,
		}, "from-env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := engine.Target{Prefix: registry.MustParsePrefix("reg.example.com/org"), Options: &tc.opts}
			c, err := engine.DefaultCredentials(target, "", "").Resolve(context.Background(), "reg.example.com")
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Username)
		})
	}
}
