package dockerauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// staticBackend is a Backend with a fixed credential.
type staticBackend struct {
	host string
	cred authn.Credential
}

func (s staticBackend) Host() string   { return s.host }
func (s staticBackend) Prefix() string { return s.host + "/org" }
func (s staticBackend) Token(context.Context, string) (*oauth2.Token, error) {
	return &oauth2.Token{}, nil
}
func (s staticBackend) ManifestDigest(context.Context, string, string) (string, error) {
	return "", nil
}
func (s staticBackend) Credential(context.Context) (authn.Credential, error) { return s.cred, nil }
func (s staticBackend) PlatformDigest(context.Context, string, string, registry.Platform) (string, error) {
	return "", nil
}
func (s staticBackend) Flavor() registry.Flavor                               { return registry.FlavorUnknown }
func (s staticBackend) Discover(context.Context) (*registry.Challenge, error) { return nil, nil }
func (s staticBackend) PrepareTokens(context.Context, []string) error         { return nil }

func TestRegistryAuthServerAddressIsTheHost(t *testing.T) {
	for _, b := range []staticBackend{
		{"ghcr.io", authn.Credential{Username: "octocat", Password: "ghp_x"}},
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com", authn.Credential{Username: "AWS", Password: "ecr-pw"}},
		{"git.example.com", authn.Credential{Username: "bot", Password: "gitea-token"}},
	} {
		enc, err := dockerauth.RegistryAuth(context.Background(), b, b.host+"/org/workspace-template-langgraph:latest")
		require.NoError(t, err)
		raw, err := base64.URLEncoding.DecodeString(enc) // as the Engine's DecodeAuthConfig does
		require.NoError(t, err)
		var got map[string]string
		require.NoError(t, json.Unmarshal(raw, &got))
		assert.Equal(t, map[string]string{"username": b.cred.Username, "password": b.cred.Password, "serveraddress": b.host}, got)
	}
}

func TestRegistryAuthAnonymousSendsNoHeader(t *testing.T) {
	b := staticBackend{"127.0.0.1:5000", authn.Credential{}}
	enc, err := dockerauth.RegistryAuth(context.Background(), b, "127.0.0.1:5000/org/x:latest")
	require.NoError(t, err)
	assert.Empty(t, enc)
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.True(t, cred.IsAnonymous(), "Credential tells anonymous access apart")
}

func TestKubernetesSecret(t *testing.T) {
	ecr := staticBackend{"123456789012.dkr.ecr.us-east-2.amazonaws.com", authn.Credential{Username: "AWS", Password: "ecr-pw"}}
	out, err := dockerauth.KubernetesSecret(context.Background(), "regcred", "workspaces", ecr)
	require.NoError(t, err)
	var s struct {
		APIVersion, Kind, Type string
		Metadata               struct{ Name, Namespace string }
		StringData             map[string]string
	}
	require.NoError(t, json.Unmarshal(out, &s))
	assert.Equal(t, "kubernetes.io/dockerconfigjson", s.Type)
	assert.Equal(t, "Secret", s.Kind)
	assert.Equal(t, "regcred", s.Metadata.Name)
	assert.JSONEq(t, `{"auths":{"123456789012.dkr.ecr.us-east-2.amazonaws.com":{"username":"AWS","password":"ecr-pw","auth":"`+
		base64.StdEncoding.EncodeToString([]byte("AWS:ecr-pw"))+`"}}}`, s.StringData[".dockerconfigjson"])

	_, err = dockerauth.KubernetesSecret(context.Background(), "Bad_Name", "ns", ecr)
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
}

// crane-style use: go-containerregistry pulls through the keychain, with
// the backend's credential, from a registry that demands it.
func TestKeychainWithGoContainerregistry(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Basic, Users: map[string]string{"ci": "pw-123456"}})
	defer srv.Close()
	img, _ := random.Image(32, 1)
	h, err := srv.Push("org/app", "v1", img)
	require.NoError(t, err)
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Credentials: authn.Static(authn.Credential{Username: "ci", Password: "pw-123456"})})
	require.NoError(t, err)

	ref, err := name.ParseReference(srv.Host() + "/org/app:v1")
	require.NoError(t, err)
	desc, err := remote.Head(ref, remote.WithAuthFromKeychain(dockerauth.Keychain(b, nil)))
	require.NoError(t, err)
	assert.Equal(t, h, desc.Digest)

	_, err = remote.Head(ref, remote.WithAuthFromKeychain(ggcrauthn.NewMultiKeychain()))
	assert.Error(t, err, "without the keychain the registry refuses")

	other, err := name.NewRegistry("other.example")
	require.NoError(t, err)
	a, err := dockerauth.Keychain(b, nil).Resolve(other)
	require.NoError(t, err)
	assert.Equal(t, ggcrauthn.Anonymous, a, "other hosts get nothing from this backend")
}

// The X-Registry-Auth value carries the backend's credential with the
// backend's host as the server address; anonymous access is the empty
// string, which means "send no header".
func ExampleRegistryAuth() {
	ctx := context.Background()
	for _, cred := range []authn.Source{authn.Anonymous, authn.Static(authn.Credential{Username: "ci", Password: "s3cret"})} {
		b, err := backends.Open("127.0.0.1:5000/molecule-ai",
			&registry.Options{Flavor: registry.FlavorDistribution, Credentials: cred})
		if err != nil {
			fmt.Println(err)
			return
		}
		v, err := dockerauth.RegistryAuth(ctx, b, b.Prefix()+"/workspace-template-langgraph:latest")
		if err != nil {
			fmt.Println(err)
			return
		}
		raw, _ := base64.URLEncoding.DecodeString(v)
		fmt.Printf("%q\n", raw)
	}
	// Output:
	// ""
	// "{\"username\":\"ci\",\"password\":\"s3cret\",\"serveraddress\":\"127.0.0.1:5000\"}"
}
