package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/moby/moby/api/pkg/authconfig"
	mobyregistry "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/examples/internal/engine"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, h http.Handler, query string) (int, Result, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path+query, nil))
	var res Result
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	return rec.Code, res, rec.Body.String()
}

func handlerFor(t *testing.T, b registry.Backend, eng *registrytest.DockerEngine) *Handler {
	t.Helper()
	docker, err := client.New(client.WithHost(eng.DockerHost()), client.WithAPIVersion("1.47"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = docker.Close() })
	return &Handler{Backend: b, Refresher: &engine.Refresher{Engine: docker, Backend: b}}
}

// ecrBackend opens the ecr flavor against an imitation ECR API.
func ecrBackend(t *testing.T, host string) registry.Backend {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: "AKIDADMIN01234567890", SecretAccessKey: "admin/secret"}
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "us-east-2", Credentials: creds,
		Issue: func() (string, time.Time) { return "ecr-password-for-engine", time.Now().Add(12 * time.Hour) }})
	t.Cleanup(api.Close)
	registrytest.SetAWSEnv(t, creds, "AWS_ENDPOINT_URL_ECR", api.URL())
	b, err := backends.Open(host+"/molecule-ai", &registry.Options{Flavor: registry.FlavorECR}, ecr.Driver(&ecr.Config{Region: "us-east-2"}))
	require.NoError(t, err)
	return b
}

func TestRegistryAuthPerFlavor(t *testing.T) {
	const host = "127.0.0.1:5999" // never dialled: only the Engine is
	cases := []struct {
		name string
		open func(t *testing.T) registry.Backend
		want mobyregistry.AuthConfig
	}{
		{"ghcr", func(t *testing.T) registry.Backend {
			b, err := backends.Open(host+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": host + "/molecule-ai", "GHCR_USER": "octocat", "GHCR_TOKEN": "ghp_pat0123456789"})})
			require.NoError(t, err)
			return b
		}, mobyregistry.AuthConfig{Username: "octocat", Password: "ghp_pat0123456789", ServerAddress: host}},
		{"gitea", func(t *testing.T) registry.Backend {
			b, err := backends.Open(host+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGitea, Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": host + "/molecule-ai", "GITEA_USER": "bot", "GITEA_TOKEN": "gitea-token-0123"})})
			require.NoError(t, err)
			return b
		}, mobyregistry.AuthConfig{Username: "bot", Password: "gitea-token-0123", ServerAddress: host}},
		{"ecr", func(t *testing.T) registry.Backend { return ecrBackend(t, host) },
			mobyregistry.AuthConfig{Username: "AWS", Password: "ecr-password-for-engine", ServerAddress: host}},
		{"anonymous", func(t *testing.T) registry.Backend {
			b, err := backends.Open(host+"/molecule-ai", &registry.Options{Flavor: registry.FlavorDistribution, Env: registry.EnvMap(nil)})
			require.NoError(t, err)
			return b
		}, mobyregistry.AuthConfig{}}, // no X-Registry-Auth header: the Engine's anonymous pull
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng := registrytest.NewDockerEngine()
			defer eng.Close()
			h := handlerFor(t, tc.open(t), eng)
			code, res, body := post(t, h, "?runtime=langgraph")
			require.Equal(t, http.StatusOK, code, body)
			assert.Equal(t, []string{host + "/molecule-ai/workspace-template-langgraph:latest"}, res.Pulled)
			pulls := eng.Pulls()
			require.Len(t, pulls, 1)
			assert.Equal(t, host+"/molecule-ai/workspace-template-langgraph", pulls[0].FromImage)
			assert.Equal(t, "latest", pulls[0].Tag)
			got, err := authconfig.Decode(pulls[0].RegistryAuth) // the daemon's decoder
			require.NoError(t, err)
			assert.Equal(t, tc.want, *got, "X-Registry-Auth as the Engine decodes it")
			assert.Equal(t, tc.want != mobyregistry.AuthConfig{}, pulls[0].RegistryAuth != "", "a header only when there is a credential")
		})
	}
}

func anonymousBackend(t *testing.T) registry.Backend {
	t.Helper()
	b, err := backends.Open("reg.example/molecule-ai", &registry.Options{Flavor: registry.FlavorDistribution, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	return b
}

func TestBadRequests(t *testing.T) {
	eng := registrytest.NewDockerEngine()
	defer eng.Close()
	h := handlerFor(t, anonymousBackend(t), eng)

	code, _, body := post(t, h, "?runtime=nope")
	assert.Equal(t, http.StatusBadRequest, code)
	for _, rt := range registry.DefaultRuntimes() {
		assert.Contains(t, body, rt)
	}
	code, _, body = post(t, h, "?runtime=langgraph&recreate=maybe")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "recreate")

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Empty(t, eng.Pulls())
}

func TestAllRuntimesAndRecreate(t *testing.T) {
	lg := "reg.example/molecule-ai/workspace-template-langgraph:latest"
	eng := registrytest.NewDockerEngine(
		registrytest.DockerContainer{ID: "a1", Name: "ws-1", Image: lg, Running: true, Env: []string{"WS=1"}},
		registrytest.DockerContainer{ID: "a2", Name: "ws-2", Image: lg, Running: false},
		registrytest.DockerContainer{ID: "b1", Name: "other", Image: "reg.example/molecule-ai/workspace-template-codex:latest", Running: true},
	)
	defer eng.Close()
	eng.FailPull("reg.example/molecule-ai/workspace-template-hermes", "manifest unknown")
	h := handlerFor(t, anonymousBackend(t), eng)

	code, res, body := post(t, h, "?recreate=true")
	require.Equal(t, http.StatusOK, code, body)
	assert.Len(t, res.Pulled, 8)
	assert.Equal(t, []string{"reg.example/molecule-ai/workspace-template-hermes:latest"}, res.Failed)
	assert.Contains(t, res.Errors[res.Failed[0]], "manifest unknown")
	assert.ElementsMatch(t, []string{"ws-1", "ws-2", "other"}, res.Recreated)
	cs := eng.Containers()
	require.Contains(t, cs, "ws-1")
	assert.True(t, cs["ws-1"].Running, "a running container is started again")
	assert.False(t, cs["ws-2"].Running, "a stopped one stays stopped")
	assert.NotEqual(t, "a1", cs["ws-1"].ID, "recreated")
	assert.Equal(t, []string{"WS=1"}, cs["ws-1"].Env, "with the same configuration")
	assert.Len(t, eng.Pulls(), 9)
}

func TestEveryPullFailingIs502(t *testing.T) {
	eng := registrytest.NewDockerEngine()
	defer eng.Close()
	eng.FailPull("reg.example/molecule-ai/workspace-template-codex", "unauthorized")
	h := handlerFor(t, anonymousBackend(t), eng)
	code, res, _ := post(t, h, "?runtime=codex")
	assert.Equal(t, http.StatusBadGateway, code)
	assert.Len(t, res.Failed, 1)
}

func TestPullByWatchedDigest(t *testing.T) {
	eng := registrytest.NewDockerEngine()
	defer eng.Close()
	h := handlerFor(t, anonymousBackend(t), eng)
	img := "reg.example/molecule-ai/workspace-template-codex:latest"
	digest := "sha256:" + strings.Repeat("ab", 32)
	h.Digests = func() map[string]string { return map[string]string{img: digest} }
	code, _, body := post(t, h, "?runtime=codex")
	require.Equal(t, http.StatusOK, code, body)
	pulls := eng.Pulls()
	require.Len(t, pulls, 1)
	assert.Equal(t, digest, pulls[0].Tag, "pulled by digest")
	assert.Equal(t, []string{fmt.Sprintf("reg.example/molecule-ai/workspace-template-codex@%s -> reg.example/molecule-ai/workspace-template-codex:latest", digest)}, eng.Tags())
}

func TestRequireToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := requireToken("s3cret", ok)
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer s3cret": 418} {
		req := httptest.NewRequest(http.MethodPost, Path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, want, rec.Code, auth)
	}
	rec := httptest.NewRecorder()
	requireToken("", ok).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path, nil))
	assert.Equal(t, http.StatusTeapot, rec.Code, "no token configured: open")
}
