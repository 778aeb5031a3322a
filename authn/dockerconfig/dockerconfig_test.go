package dockerconfig_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/authn/dockerconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secret   = "pw-9f8e7d6c5b4a"
	secretID = "idtok-1a2b3c4d"
)

func writeDockerConfig(t *testing.T, dir, cfg string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
}

func TestDockerConfigSource(t *testing.T) {
	dir := t.TempDir()
	writeDockerConfig(t, dir, `{"auths":{
		"reg.example:5000":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("alice:"+secret))+`"},
		"https://index.docker.io/v1/":{"username":"bob","password":"hub-pw"},
		"id.example":{"identitytoken":"`+secretID+`"}}}`)
	src := dockerconfig.From(registryEnv(map[string]string{"DOCKER_CONFIG": dir}))
	ctx := context.Background()

	c, err := src.Resolve(ctx, "reg.example:5000")
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: "alice", Password: secret}, c)

	for _, hub := range []string{"docker.io", "registry-1.docker.io", "index.docker.io"} {
		c, err = src.Resolve(ctx, hub)
		require.NoError(t, err, hub)
		assert.Equal(t, "bob", c.Username, hub)
	}

	c, err = src.Resolve(ctx, "id.example")
	require.NoError(t, err)
	assert.Equal(t, secretID, c.IdentityToken)

	_, err = src.Resolve(ctx, "unknown.example")
	assert.ErrorIs(t, err, authn.ErrNoCredential)
}

// The environment given decides where the configuration is found; the
// process environment is never consulted.
func TestDockerConfigLocationComesFromTheEnvironmentGiven(t *testing.T) {
	ctx := context.Background()
	entry := func(user string) string {
		return `{"auths":{"reg.example":{"auth":"` + base64.StdEncoding.EncodeToString([]byte(user+":pw")) + `"}}}`
	}
	home, explicit, runtime := t.TempDir(), t.TempDir(), t.TempDir()
	writeDockerConfig(t, filepath.Join(home, ".docker"), entry("from-home"))
	writeDockerConfig(t, explicit, entry("from-docker-config"))
	podman := filepath.Join(t.TempDir(), "auth.json")
	require.NoError(t, os.WriteFile(podman, []byte(entry("from-podman")), 0o600))
	writeDockerConfig(t, filepath.Join(runtime, "containers"), "")
	require.NoError(t, os.WriteFile(filepath.Join(runtime, "containers", "auth.json"), []byte(entry("from-xdg")), 0o600))

	// A process environment that points somewhere else must not matter.
	decoy := t.TempDir()
	writeDockerConfig(t, decoy, entry("from-process"))
	t.Setenv("DOCKER_CONFIG", decoy)
	t.Setenv("HOME", decoy)

	cases := []struct {
		name string
		env  map[string]string
		want string // "" for no credential
	}{
		{"DOCKER_CONFIG wins over HOME", map[string]string{"DOCKER_CONFIG": explicit, "HOME": home}, "from-docker-config"},
		{"HOME", map[string]string{"HOME": home}, "from-home"},
		{"REGISTRY_AUTH_FILE when no Docker config", map[string]string{"HOME": t.TempDir(), "REGISTRY_AUTH_FILE": podman}, "from-podman"},
		{"XDG_RUNTIME_DIR last", map[string]string{"XDG_RUNTIME_DIR": runtime}, "from-xdg"},
		{"nothing", map[string]string{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dockerconfig.From(registryEnv(tc.env)).Resolve(ctx, "reg.example")
			if tc.want == "" {
				require.ErrorIs(t, err, authn.ErrNoCredential)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Username)
		})
	}

	// os.LookupEnv is the process environment: the decoy.
	c, err := dockerconfig.From(os.LookupEnv).Resolve(ctx, "reg.example")
	require.NoError(t, err)
	assert.Equal(t, "from-process", c.Username)
}

func TestDockerConfigMalformed(t *testing.T) {
	dir := t.TempDir()
	writeDockerConfig(t, dir, `{"auths":`)
	_, err := dockerconfig.From(registryEnv(map[string]string{"DOCKER_CONFIG": dir})).Resolve(context.Background(), "reg.example")
	require.Error(t, err)
	assert.NotErrorIs(t, err, authn.ErrNoCredential)
	assert.Contains(t, err.Error(), "reg.example")
}

func registryEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}
