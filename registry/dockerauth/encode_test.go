package dockerauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/cli/cli/config/types"
	"github.com/molecule-ai/registrykit/authn/dockerconfig"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/authn"
)

// TestRegistryAuthWireFormat checks the bytes the Engine receives: base64url
// of the AuthConfig JSON (moby/moby api/types/registry/authconfig.go,
// EncodeAuthConfig). The Engine's own decoder reads the same values in the
// examples module and in the consumer-compatibility module.
func TestRegistryAuthWireFormat(t *testing.T) {
	cases := []struct {
		name string
		cred authn.Credential
		host string
		want map[string]string
	}{
		{"ghcr PAT", authn.Credential{Username: "octocat", Password: "ghp_x"}, "ghcr.io",
			map[string]string{"username": "octocat", "password": "ghp_x", "serveraddress": "ghcr.io"}},
		{"ecr", authn.Credential{Username: "AWS", Password: "eyJwYXlsb2FkIjoi+/="}, "123456789012.dkr.ecr.us-east-2.amazonaws.com",
			map[string]string{"username": "AWS", "password": "eyJwYXlsb2FkIjoi+/=", "serveraddress": "123456789012.dkr.ecr.us-east-2.amazonaws.com"}},
		{"gitea", authn.Credential{Username: "bot", Password: "gitea-token"}, "git.example.com",
			map[string]string{"username": "bot", "password": "gitea-token", "serveraddress": "git.example.com"}},
		{"identity token", authn.Credential{IdentityToken: "idt"}, "harbor.example.com",
			map[string]string{"identitytoken": "idt", "serveraddress": "harbor.example.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := encodeRegistryAuth(tc.cred, tc.host)
			require.NoError(t, err)
			raw, err := base64.URLEncoding.DecodeString(enc)
			require.NoError(t, err, "the Engine decodes base64url")
			var got map[string]string
			require.NoError(t, json.Unmarshal(raw, &got))
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRegistryAuthAnonymousIsEmpty(t *testing.T) {
	enc, err := encodeRegistryAuth(authn.Credential{}, "127.0.0.1:5000")
	require.NoError(t, err)
	assert.Empty(t, enc, "an anonymous pull sends no X-Registry-Auth header")

	_, err = encodeRegistryAuth(authn.Credential{}, "")
	assert.Error(t, err)
}

func TestDockerConfigJSON(t *testing.T) {
	b, err := encodeDockerConfig(map[string]authn.Credential{
		"ghcr.io":    {Username: "octocat", Password: "ghp_x"},
		"anon.local": {},
		"id.example": {IdentityToken: "idt"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"auths":{
		"ghcr.io":{"username":"octocat","password":"ghp_x","auth":"b2N0b2NhdDpnaHBfeA=="},
		"id.example":{"identitytoken":"idt"}}}`, string(b))
	_, err = encodeDockerConfig(map[string]authn.Credential{"": {Username: "x"}})
	assert.Error(t, err)
}

// The exact bytes of X-Registry-Auth: the Engine's own EncodeAuthConfig
// writes AuthConfig's fields in this order with empty ones left out
// (api/types/registry/authconfig.go in moby/moby).
func TestRegistryAuthBytes(t *testing.T) {
	enc, err := encodeRegistryAuth(authn.Credential{Username: "octocat", Password: "ghp_x", IdentityToken: "idt", RegistryToken: "rt"}, "ghcr.io")
	require.NoError(t, err)
	raw, err := base64.URLEncoding.DecodeString(enc)
	require.NoError(t, err)
	assert.Equal(t, `{"username":"octocat","password":"ghp_x","serveraddress":"ghcr.io","identitytoken":"idt","registrytoken":"rt"}`, string(raw))
}

// The documents this package writes are the ones docker/cli reads: a
// .dockerconfigjson yields its credentials back through docker/cli's loader
// (by way of authn/dockerconfig), and the X-Registry-Auth JSON decodes into
// docker/cli's AuthConfig field for field (this package copies that type
// rather than import docker/cli).
func TestEncodingsReadByDockerCLI(t *testing.T) {
	creds := map[string]authn.Credential{
		"reg.example:5000": {Username: "alice", Password: "s3cr3t-pw"},
		"id.example":       {IdentityToken: "idtok-1a2b3c4d"},
	}
	doc, err := encodeDockerConfig(creds)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), doc, 0o600))
	src := dockerconfig.From(func(k string) (string, bool) { return dir, k == "DOCKER_CONFIG" })
	for host, want := range creds {
		got, err := src.Resolve(context.Background(), host)
		require.NoError(t, err, host)
		assert.Equal(t, want, got, host)
	}

	c := authn.Credential{Username: "octocat", Password: "s3cr3t-pw", IdentityToken: "idtok-1a2b3c4d", RegistryToken: "rt"}
	enc, err := encodeRegistryAuth(c, "ghcr.io")
	require.NoError(t, err)
	raw, err := base64.URLEncoding.DecodeString(enc)
	require.NoError(t, err)
	var got types.AuthConfig
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, types.AuthConfig{Username: "octocat", Password: "s3cr3t-pw", ServerAddress: "ghcr.io", IdentityToken: "idtok-1a2b3c4d", RegistryToken: "rt"}, got)
	again, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, string(raw), string(again), "docker/cli writes the same bytes")
}

// A refresh token held for a named user, as the ACR driver gives one, is
// written as that user's password: the kubelet reads no identitytoken.
func TestDockerConfigWritesANamedUsersRefreshTokenAsItsPassword(t *testing.T) {
	b, err := encodeDockerConfig(map[string]authn.Credential{
		"myregistry.azurecr.io": {Username: "00000000-0000-0000-0000-000000000000", IdentityToken: "refresh-token"},
		"id.example":            {IdentityToken: "idt"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"auths":{
		"myregistry.azurecr.io":{"username":"00000000-0000-0000-0000-000000000000","password":"refresh-token",
			"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOnJlZnJlc2gtdG9rZW4="},
		"id.example":{"identitytoken":"idt"}}}`, string(b))
}
