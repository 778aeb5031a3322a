package dockerauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RegistryAuth sends b's credential with a pull of an image on b's registry
// only: an image on another registry is pulled anonymously ("").
func TestRegistryAuthForImage(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ghcr := staticBackend{"ghcr.io", authn.Credential{Username: "octocat", Password: "ghp_x"}}
	hub := staticBackend{"registry-1.docker.io", authn.Credential{Username: "molecule", Password: "dckr_pat_x"}}
	local := staticBackend{"localhost:5000", authn.Credential{Username: "ci", Password: "pw"}}
	for _, tc := range []struct {
		name  string
		b     staticBackend
		image string
		sent  bool // b's credential is sent
	}{
		{"same host, tag", ghcr, "ghcr.io/molecule-ai/workspace-template-langgraph:latest", true},
		{"same host, digest", ghcr, "ghcr.io/molecule-ai/workspace-template-langgraph@" + digest, true},
		{"same host, tag and digest", ghcr, "ghcr.io/molecule-ai/x:latest@" + digest, true},
		{"same host, no tag", ghcr, "ghcr.io/molecule-ai/x", true},
		{"same host, upper case", ghcr, "GHCR.IO/molecule-ai/x:latest", true},
		{"same host, default port", ghcr, "ghcr.io:443/molecule-ai/x:latest", true},
		{"another registry", ghcr, "quay.io/molecule-ai/x:latest", false},
		{"another registry, digest", ghcr, "registry.example.com/molecule-ai/x@" + digest, false},
		{"another port", ghcr, "ghcr.io:5000/molecule-ai/x:latest", false},
		{"a host's subdomain", ghcr, "evil.ghcr.io/molecule-ai/x:latest", false},
		{"docker hub short name", ghcr, "nginx:latest", false},
		{"docker hub library name", ghcr, "library/nginx@" + digest, false},
		{"hub backend, short name", hub, "nginx:1.27", true},
		{"hub backend, user path", hub, "molecule/x:latest", true},
		{"hub backend, docker.io", hub, "docker.io/molecule/x:latest", true},
		{"hub backend, index.docker.io", hub, "index.docker.io/molecule/x:latest", true},
		{"hub backend, registry-1.docker.io", hub, "registry-1.docker.io/molecule/x:latest", true},
		{"hub backend, another registry", hub, "ghcr.io/molecule-ai/x:latest", false},
		{"localhost with port", local, "localhost:5000/org/x:latest", true},
		{"localhost, another port", local, "localhost:5001/org/x:latest", false},
		// Another loopback listener may be another user's.
		{"another loopback address", local, "127.0.0.2:5000/org/x:latest", false},
		{"IPv6 loopback", local, "[::1]:5000/org/x:latest", false},
		// docker.io on another port is another registry to Docker.
		{"hub name on another port", hub, "docker.io:8443/library/nginx:latest", false},
		{"hub name on 443", hub, "index.docker.io:443/molecule/x:latest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := dockerauth.RegistryAuth(context.Background(), tc.b, tc.image)
			require.NoError(t, err)
			if !tc.sent {
				assert.Empty(t, enc, "anonymous: no credential for another registry")
				return
			}
			raw, err := base64.URLEncoding.DecodeString(enc)
			require.NoError(t, err)
			var got map[string]string
			require.NoError(t, json.Unmarshal(raw, &got))
			assert.Equal(t, tc.b.cred.Password, got["password"])
			assert.Equal(t, tc.b.host, got["serveraddress"])
		})
	}
}

// A malformed image is a ConfigError naming the image, and never echoes a
// credential pasted into it.
func TestRegistryAuthRefusesMalformedImages(t *testing.T) {
	b := staticBackend{"ghcr.io", authn.Credential{Username: "octocat", Password: "ghp_x"}}
	for _, image := range []string{"", "  ", "ghcr.io:0/org/x:latest", "ghcr.io:99999/org/x", "octocat:ghp_secret@ghcr.io/org/x:latest", "bad_host.example/x"} {
		t.Run(image, func(t *testing.T) {
			enc, err := dockerauth.RegistryAuth(context.Background(), b, image)
			assert.Empty(t, enc)
			var ce *registry.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "image", ce.Var)
			assert.ErrorIs(t, err, registry.ErrInvalidConfig)
			assert.NotContains(t, err.Error(), "ghp_secret")
		})
	}
}
