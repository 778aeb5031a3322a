package pullcred_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	ecrHost   = "123456789012.dkr.ecr.us-east-2.amazonaws.com"
	ecrRegion = "us-east-2"
)

var (
	keysA = aws.Credentials{AccessKeyID: "AKIDAAAAAAAAAAAAAAAA", SecretAccessKey: "secretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	keysB = aws.Credentials{AccessKeyID: "AKIDBBBBBBBBBBBBBBBB", SecretAccessKey: "secretBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}
)

// profileEnv is an environment whose only AWS credentials are keys under
// [default] in a shared credentials file of its own (the file format:
// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html), with
// the cache in cacheHome and ECR's API at endpoint.
func profileEnv(t *testing.T, cacheHome string, keys aws.Credentials, endpoint string) registry.Env {
	t.Helper()
	dir := t.TempDir()
	creds := "[default]\naws_access_key_id = " + keys.AccessKeyID + "\naws_secret_access_key = " + keys.SecretAccessKey + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600))
	env := registrytest.AWSEnv(dir, aws.Credentials{}, "AWS_ENDPOINT_URL_ECR", endpoint)
	env["AWS_REGION"] = ecrRegion
	env["HOME"] = dir
	env["XDG_CACHE_HOME"] = cacheHome
	return registry.EnvMap(env)
}

// Two credentials files with different keys under the same profile name
// are two identities: the second never gets the first's cached password,
// and its own (refused) keys reach the API.
func TestCacheIsKeyedByTheResolvedIdentity(t *testing.T) {
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{
		Service: "ecr", Region: ecrRegion, Credentials: keysA,
		Issue: func() (string, time.Time) { return "password-of-A", time.Now().Add(12 * time.Hour) },
	})
	defer api.Close()
	cacheHome := t.TempDir()
	ctx := context.Background()

	first := pullcred.New(profileEnv(t, cacheHome, keysA, api.URL()))
	c, err := first.Get(ctx, ecrHost)
	require.NoError(t, err)
	assert.Equal(t, "password-of-A", c.Password)
	c, err = first.Get(ctx, ecrHost)
	require.NoError(t, err)
	assert.Equal(t, "password-of-A", c.Password)
	assert.Equal(t, int64(1), api.Calls(), "the same identity is served from the cache")

	second := pullcred.New(profileEnv(t, cacheHome, keysB, api.URL()))
	c, err = second.Get(ctx, ecrHost)
	require.Error(t, err, "another identity's keys are refused, not answered from the cache")
	assert.Empty(t, c.Password)
	assert.Len(t, api.Errors(), 1, "the second identity's request reached the API")
	assert.NotContains(t, err.Error(), keysB.SecretAccessKey)
	assert.Empty(t, second.Cached(ctx), "nothing is listed for the second identity")
	assert.Len(t, first.Cached(ctx), 1)
}

func TestAWSIdentity(t *testing.T) {
	ctx := context.Background()
	cacheHome := t.TempDir()
	id := func(env registry.Env) string {
		t.Helper()
		got, err := pullcred.AWSIdentity(ctx, env)
		require.NoError(t, err)
		assert.Regexp(t, `^aws:[0-9a-f]{64}$`, got, "a hash: no key, secret or file name")
		return got
	}
	envA := profileEnv(t, cacheHome, keysA, "")
	a := id(envA)
	assert.Equal(t, a, id(envA), "stable for one identity")
	assert.NotEqual(t, a, id(profileEnv(t, cacheHome, keysB, "")), "other keys under [default]: another identity")
	assert.NotEqual(t, a, id(profileEnv(t, cacheHome, keysA, "")), "the same keys from another file: another source")

	static := func(extra map[string]string) registry.Env {
		env := registrytest.AWSEnv(t.TempDir(), keysA, "", "")
		for k, v := range extra {
			env[k] = v
		}
		return registry.EnvMap(env)
	}
	s := id(static(nil))
	assert.NotEqual(t, s, id(static(map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r"})), "a role is another identity")
	assert.NotEqual(t, s, id(static(map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds"})), "a container endpoint is another identity")

	// Web identity (read by the SDK from the process environment): the role
	// and the token, read without an STS call (the STS endpoint here refuses
	// connections).
	registrytest.SetAWSEnv(t, aws.Credentials{}, "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", ecrRegion)
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
	tokenFile := filepath.Join(t.TempDir(), "token")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	webIdentity := func(token string) registry.Env {
		require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
		return registry.Env{}
	}
	w := id(webIdentity("token-1"))
	assert.Equal(t, w, id(webIdentity("token-1")))
	assert.NotEqual(t, w, id(webIdentity("token-2")), "another token is another identity")

	// A web-identity profile named by AWS_PROFILE beside IRSA's variables
	// (the SDK resolves the profile's role and token): never role r's
	// identity. Its keys come from STS, refused here, so no identity at all
	// rather than a wrong one.
	configFile := filepath.Join(t.TempDir(), "config")
	otherToken := filepath.Join(t.TempDir(), "token-b")
	require.NoError(t, os.WriteFile(otherToken, []byte("token-b"), 0o600))
	// The shared config file format: https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
	require.NoError(t, os.WriteFile(configFile, []byte("[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nweb_identity_token_file = "+otherToken+"\n"), 0o600))
	t.Setenv("AWS_CONFIG_FILE", configFile)
	t.Setenv("AWS_PROFILE", "b")
	require.NoError(t, os.WriteFile(tokenFile, []byte("token-1"), 0o600))
	b, errB := pullcred.AWSIdentity(ctx, registry.Env{})
	if errB == nil {
		assert.NotEqual(t, w, b, "profile b's role is not role r")
	}
	// The same profile, now with another role: another identity (or none),
	// never the cached one of role b.
	require.NoError(t, os.WriteFile(configFile, []byte("[profile b]\nrole_arn = arn:aws:iam::123456789012:role/c\nweb_identity_token_file = "+otherToken+"\n"), 0o600))
	c, errC := pullcred.AWSIdentity(ctx, registry.Env{})
	assert.False(t, errB == nil && errC == nil && b == c, "a profile's new role reused the old role's identity")
	_, err := pullcred.AWSIdentity(ctx, registry.EnvMap(registrytest.AWSEnv(t.TempDir(), aws.Credentials{}, "", "")))
	assert.Error(t, err, "no credentials: no identity")
}
