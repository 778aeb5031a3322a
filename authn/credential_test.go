package authn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
