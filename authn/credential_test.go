package authn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	secretPW  = "pw-9f8e7d6c5b4a"
	secretID  = "idtok-1a2b3c4d"
	secretReg = "regtok-5e6f7a8b"
)

func TestCredentialRedaction(t *testing.T) {
	c := authn.Credential{Username: "octocat", Password: secretPW, IdentityToken: secretID, RegistryToken: secretReg}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	out = append(out, fmt.Sprint(c), fmt.Sprintln(c), c.String(), c.GoString())
	out = append(out, fmt.Sprintf("%+v", struct{ C authn.Credential }{c}))

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("cred", "c", c, "p", &c)
	}
	out = append(out, logs.String())

	j, err := json.Marshal(map[string]any{"c": c, "p": &c})
	require.NoError(t, err)
	out = append(out, string(j))

	for _, s := range out {
		for _, secret := range []string{secretPW, secretID, secretReg} {
			assert.NotContains(t, s, secret)
		}
	}
	assert.Contains(t, fmt.Sprintf("%v", c), "octocat")
	assert.Contains(t, fmt.Sprintf("%v", c), authn.Redacted)
	assert.Contains(t, logs.String(), authn.Redacted)
	assert.Equal(t, "anonymous", authn.Credential{}.String())
	assert.True(t, authn.Credential{}.IsAnonymous())
}

func TestRedactedToken(t *testing.T) {
	tok := &oauth2.Token{AccessToken: secretReg, RefreshToken: secretID, TokenType: "Bearer", Expiry: time.Unix(1700000000, 0)}
	r := authn.Redact(tok)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("tok", "t", r)
	j, err := json.Marshal(r)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", r, r, r, r), logs.String(), string(j)} {
		assert.NotContains(t, s, secretReg)
		assert.NotContains(t, s, secretID)
	}
	assert.JSONEq(t, `{"type":"Bearer","expiry":"2023-11-14T22:13:20Z"}`, string(j))
	assert.Equal(t, "<nil token>", authn.Redact(nil).String())
}

func TestEnvSource(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	ctx := context.Background()
	c, err := authn.Env("U", "T", env(map[string]string{"U": " me ", "T": " tok\n"})).Resolve(ctx, "h")
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: "me", Password: "tok"}, c)

	_, err = authn.Env("U", "T", env(nil)).Resolve(ctx, "h")
	assert.ErrorIs(t, err, authn.ErrNoCredential)
	_, err = authn.Env("U", "T", env(map[string]string{"U": "  ", "T": ""})).Resolve(ctx, "h")
	assert.ErrorIs(t, err, authn.ErrNoCredential)

	_, err = authn.Env("U", "T", env(map[string]string{"T": secretPW})).Resolve(ctx, "h")
	require.ErrorIs(t, err, authn.ErrIncompleteCredential)
	assert.Contains(t, err.Error(), "U is not")
	assert.NotContains(t, err.Error(), secretPW)

	_, err = authn.Env("U", "T", env(map[string]string{"U": "me"})).Resolve(ctx, "h")
	require.ErrorIs(t, err, authn.ErrIncompleteCredential)
	assert.Contains(t, err.Error(), "T is not")
}

func TestChain(t *testing.T) {
	ctx := context.Background()
	none := authn.SourceFunc(func(context.Context, string) (authn.Credential, error) {
		return authn.Credential{}, authn.ErrNoCredential
	})
	boom := errors.New("helper crashed")
	failing := authn.SourceFunc(func(context.Context, string) (authn.Credential, error) { return authn.Credential{}, boom })
	a := authn.Static(authn.Credential{Username: "a", Password: "1"})

	c, err := authn.Chain(none, nil, a, failing).Resolve(ctx, "h")
	require.NoError(t, err)
	assert.Equal(t, "a", c.Username)

	_, err = authn.Chain(none, failing, a).Resolve(ctx, "h")
	assert.ErrorIs(t, err, boom)

	_, err = authn.Chain(none).Resolve(ctx, "h")
	assert.ErrorIs(t, err, authn.ErrNoCredential)

	c, err = authn.Chain(none, authn.Anonymous).Resolve(ctx, "h")
	require.NoError(t, err)
	assert.True(t, c.IsAnonymous())
}

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
			enc, err := authn.RegistryAuth(tc.cred, tc.host)
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
	enc, err := authn.RegistryAuth(authn.Credential{}, "127.0.0.1:5000")
	require.NoError(t, err)
	assert.Empty(t, enc, "an anonymous pull sends no X-Registry-Auth header")

	_, err = authn.RegistryAuth(authn.Credential{}, "")
	assert.Error(t, err)
	assert.Equal(t, "X-Registry-Auth", authn.RegistryAuthHeader)
}

func TestDockerConfigJSON(t *testing.T) {
	b, err := authn.DockerConfigJSON(map[string]authn.Credential{
		"ghcr.io":    {Username: "octocat", Password: "ghp_x"},
		"anon.local": {},
		"id.example": {IdentityToken: "idt"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"auths":{
		"ghcr.io":{"username":"octocat","password":"ghp_x","auth":"b2N0b2NhdDpnaHBfeA=="},
		"id.example":{"identitytoken":"idt"}}}`, string(b))
	_, err = authn.DockerConfigJSON(map[string]authn.Credential{"": {Username: "x"}})
	assert.Error(t, err)
}

// The exact bytes of X-Registry-Auth: the Engine's own EncodeAuthConfig
// writes AuthConfig's fields in this order with empty ones left out
// (api/types/registry/authconfig.go in moby/moby).
func TestRegistryAuthBytes(t *testing.T) {
	enc, err := authn.RegistryAuth(authn.Credential{Username: "octocat", Password: "ghp_x", IdentityToken: "idt", RegistryToken: "rt"}, "ghcr.io")
	require.NoError(t, err)
	raw, err := base64.URLEncoding.DecodeString(enc)
	require.NoError(t, err)
	assert.Equal(t, `{"username":"octocat","password":"ghp_x","serveraddress":"ghcr.io","identitytoken":"idt","registrytoken":"rt"}`, string(raw))
}
