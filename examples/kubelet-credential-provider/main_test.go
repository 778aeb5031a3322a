//go:build unix

package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/credcache"
	"github.com/molecule-ai/registrykit/examples/internal/helpertest"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/kubelet/pkg/apis/credentialprovider"
	"k8s.io/kubelet/pkg/apis/credentialprovider/install"
	v1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// kubelet is the kubelet's side of the exec plugin protocol, set up as
// pkg/credentialprovider/plugin in kubernetes/kubernetes sets it up: the
// credential provider scheme, a strict codec factory, a JSON encoder for the
// configured apiVersion, and the universal decoder for the response.
type kubelet struct {
	t      *testing.T
	bin    string
	env    map[string]string // the provider entry's env
	codecs serializer.CodecFactory
}

func newKubelet(t *testing.T, bin string, env map[string]string) *kubelet {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return &kubelet{t: t, bin: bin, env: env, codecs: serializer.NewCodecFactory(scheme, serializer.EnableStrict)}
}

// request encodes the request for image as the kubelet does.
func (k *kubelet) request(image string) []byte {
	info, ok := runtime.SerializerInfoForMediaType(k.codecs.SupportedMediaTypes(), "application/json")
	require.True(k.t, ok)
	data, err := runtime.Encode(k.codecs.EncoderForVersion(info.Serializer, v1.SchemeGroupVersion), &credentialprovider.CredentialProviderRequest{Image: image})
	require.NoError(k.t, err)
	return data
}

// exec runs the plugin with stdin, returning stdout, stderr and the exit
// status: the process environment plus the entry's env, as the kubelet
// merges them.
func (k *kubelet) exec(stdin []byte) (stdout, stderr string, code int) {
	cmd := exec.Command(k.bin)
	cmd.Env = helpertest.Environ(k.env)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errb.String(), exit.ExitCode()
	}
	require.NoError(k.t, err)
	return out.String(), errb.String(), 0
}

// provide sends the kubelet's request for image and decodes the response
// as the kubelet does: the apiVersion must be the configured one, and the
// strict decoder refuses anything unknown.
func (k *kubelet) provide(image string) *credentialprovider.CredentialProviderResponse {
	k.t.Helper()
	stdout, stderr, code := k.exec(k.request(image))
	require.Equal(k.t, 0, code, "stderr: %s", stderr)
	assert.Empty(k.t, stderr)
	gvk, err := kjson.DefaultMetaFactory.Interpret([]byte(stdout))
	require.NoError(k.t, err)
	require.Equal(k.t, v1.SchemeGroupVersion.String(), gvk.GroupVersion().String())
	obj, gvk, err := k.codecs.UniversalDecoder().Decode([]byte(stdout), nil, nil)
	require.NoError(k.t, err, "the kubelet's strict decoder takes the response: %s", stdout)
	require.Equal(k.t, "CredentialProviderResponse", gvk.Kind)
	resp, ok := obj.(*credentialprovider.CredentialProviderResponse)
	require.True(k.t, ok, "%T", obj)
	return resp
}

func TestKubeletCredentialProvider(t *testing.T) {
	bin := helpertest.Build(t, ".", "registrykit-credential-provider")

	t.Run("the request is what the kubelet sends", func(t *testing.T) {
		k := newKubelet(t, bin, helpertest.Env(t))
		assert.Equal(t, `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"`+helpertest.ECRHost+`/molecule-ai/app:latest"}`+"\n",
			string(k.request(helpertest.ECRHost+"/molecule-ai/app:latest")))
	})

	t.Run("ECR: cached for the password's life less the margin, one API call for ten pulls", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr", helpertest.Region, 12*time.Hour)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", ecr.API.URL())
		env := helpertest.Env(t)
		env["MOLECULE_IMAGE_REGISTRY"] = ecr.Registry.Host() + "/molecule-ai"
		env["MOLECULE_IMAGE_REGISTRY_FLAVOR"] = "ecr"
		env["AWS_REGION"] = helpertest.Region
		k := newKubelet(t, bin, env)

		for range 10 {
			resp := k.provide(ecr.Registry.Host() + "/molecule-ai/app:latest")
			assert.Equal(t, credentialprovider.RegistryPluginCacheKeyType, resp.CacheKeyType)
			require.NotNil(t, resp.CacheDuration)
			assert.InDelta(t, (12*time.Hour - credcache.Margin).Seconds(), resp.CacheDuration.Seconds(), 60, "12 h less the margin")
			require.Contains(t, resp.Auth, ecr.Registry.Host())
			auth := resp.Auth[ecr.Registry.Host()]
			assert.Equal(t, "AWS", auth.Username)
			assert.True(t, ecr.Pulls(t, auth.Username, auth.Password), "the registry takes the password")
		}
		assert.Equal(t, int64(1), ecr.API.Calls(), "ten runs, one GetAuthorizationToken")
		assert.Empty(t, ecr.API.Errors())

		resp := k.provide(helpertest.ECRHost + "/team/app@sha256:" + strings.Repeat("a", 64))
		require.Contains(t, resp.Auth, helpertest.ECRHost, "any ECR host, keyed by its registry")
		assert.Equal(t, "AWS", resp.Auth[helpertest.ECRHost].Username)
		assert.Equal(t, int64(2), ecr.API.Calls())
		for name, data := range helpertest.CacheFiles(t, env) {
			assert.NotContains(t, string(data), helpertest.SecretKey, name)
		}
	})

	t.Run("a static credential: no cacheDuration, nothing written", func(t *testing.T) {
		reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea})
		defer reg.Close()
		env := helpertest.Env(t)
		env["MOLECULE_IMAGE_REGISTRY"] = reg.Host() + "/molecule-ai"
		env["MOLECULE_IMAGE_REGISTRY_FLAVOR"] = "gitea"
		env["GITEA_USER"], env["GITEA_TOKEN"] = "bot", "gitea-token-0123456789abcdef"
		resp := newKubelet(t, bin, env).provide(reg.Host() + "/molecule-ai/app:latest")
		assert.Nil(t, resp.CacheDuration, "the kubelet applies defaultCacheDuration")
		assert.Equal(t, map[string]credentialprovider.AuthConfig{reg.Host(): {Username: "bot", Password: "gitea-token-0123456789abcdef"}}, resp.Auth)
		assert.Empty(t, helpertest.CacheFiles(t, env), "no file holds the token")
	})

	t.Run("a registry it does not serve, or the default ghcr.io without credentials: no auth, no error", func(t *testing.T) {
		k := newKubelet(t, bin, helpertest.Env(t))
		for _, image := range []string{"registry.example.com/team/app:1", "nginx:latest", "ghcr.io/other/app"} {
			resp := k.provide(image)
			assert.Empty(t, resp.Auth, image)
			assert.Equal(t, credentialprovider.RegistryPluginCacheKeyType, resp.CacheKeyType)
		}
	})

	t.Run("requests are decoded strictly", func(t *testing.T) {
		k := newKubelet(t, bin, helpertest.Env(t))
		for _, tc := range []struct{ in, want string }{
			{`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"ghcr.io/a/b","serviceAccountToken":"eyJhbGciOi"}`,
				"remove tokenAttributes"},
			{`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"ghcr.io/a/b","extra":1}`, `unknown field "extra"`},
			{`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"ghcr.io/a/b"}`,
				"set apiVersion: credentialprovider.kubelet.k8s.io/v1"},
			{`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"ghcr.io/a/b"}`, `kind "CredentialProviderResponse"`},
			{`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}`, "names no image"},
			{`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"ghcr.io/a/b"} {}`, "data after the object"},
			{`not json`, "one JSON object"},
		} {
			stdout, stderr, code := k.exec([]byte(tc.in))
			assert.Equal(t, 1, code, tc.in)
			assert.Empty(t, stdout, tc.in)
			assertOneLine(t, stderr, tc.want)
			assert.NotContains(t, stderr, "eyJhbGciOi", "the token is not echoed")
		}
	})

	t.Run("errors: one line with the fix, exit 1, no secret", func(t *testing.T) {
		denied := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: helpertest.Region, Credentials: helpertest.Creds, Deny: true})
		defer denied.Close()
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", denied.URL())
		k := newKubelet(t, bin, helpertest.Env(t))
		stdout, stderr, code := k.exec(k.request(helpertest.ECRHost + "/molecule-ai/app:latest"))
		assert.Equal(t, 1, code)
		assert.Empty(t, stdout)
		assertOneLine(t, stderr, "grant the IAM action ecr:GetAuthorizationToken")
		assert.NotContains(t, stderr, helpertest.SecretKey)
	})
}

// assertOneLine checks that s is one line starting with the program's name
// and containing want.
func assertOneLine(t *testing.T, s, want string) {
	t.Helper()
	assert.Equal(t, 1, strings.Count(s, "\n"), "one line: %q", s)
	assert.True(t, strings.HasPrefix(s, prog+": "), "%q", s)
	assert.Contains(t, s, want)
}
