package registrytest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engineCall sends one Engine API request, as a Docker client does
// (versioned path, swagger.yaml's paths), and returns the status and body.
func engineCall(t *testing.T, e *registrytest.DockerEngine, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	base := "http://" + strings.TrimPrefix(e.DockerHost(), "tcp://")
	req, err := http.NewRequest(method, base+"/v1.47"+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// A pull records the X-Registry-Auth the daemon would read; a pull without
// the header is anonymous; a malformed header is refused as the daemon
// refuses it.
func TestDockerEnginePullRecordsRegistryAuth(t *testing.T) {
	e := registrytest.NewDockerEngine()
	defer e.Close()
	// The header as the Engine's EncodeAuthConfig writes it
	// (api/types/registry/authconfig.go in moby/moby).
	auth := base64.URLEncoding.EncodeToString([]byte(`{"username":"octocat","password":"ghp_x","serveraddress":"ghcr.io"}`))
	for _, tc := range []struct {
		name, header string
		status       int
		cred         authn.Credential
		server       string
	}{
		{"credential", auth, http.StatusOK, authn.Credential{Username: "octocat", Password: "ghp_x"}, "ghcr.io"},
		{"anonymous", "", http.StatusOK, authn.Credential{}, ""},
		{"not base64url", "!!!", http.StatusBadRequest, authn.Credential{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.Pulls())
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Registry-Auth", tc.header)
			}
			code, body := engineCall(t, e, http.MethodPost, "/images/create?"+url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {"latest"}}.Encode(), h, "")
			require.Equal(t, tc.status, code, body)
			if tc.status != http.StatusOK {
				assert.Len(t, e.Pulls(), before)
				assert.Contains(t, body, `"message"`)
				return
			}
			pulls := e.Pulls()
			require.Len(t, pulls, before+1)
			p := pulls[before]
			assert.Equal(t, "ghcr.io/org/x", p.FromImage)
			assert.Equal(t, "latest", p.Tag)
			assert.Equal(t, tc.header, p.RegistryAuth)
			assert.Equal(t, tc.cred, p.Credential)
			assert.Equal(t, tc.server, p.ServerAddress)
		})
	}
}

// A failing pull reports its error in the progress stream, with status 200,
// as the Engine does.
func TestDockerEngineFailPull(t *testing.T) {
	e := registrytest.NewDockerEngine()
	defer e.Close()
	e.FailPull("ghcr.io/org/x", "manifest unknown")
	code, body := engineCall(t, e, http.MethodPost, "/images/create?fromImage=ghcr.io/org/x&tag=latest", nil, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"errorDetail":{"message":"manifest unknown"}`)
}

// Images: inspect and list what was set or pulled; 404 for another.
func TestDockerEngineImages(t *testing.T) {
	e := registrytest.NewDockerEngine()
	defer e.Close()
	d := registrytest.Digest("v1")
	e.SetImage("ghcr.io/org/x:latest", d)
	code, body := engineCall(t, e, http.MethodGet, "/images/ghcr.io/org/x:latest/json", nil, "")
	require.Equal(t, http.StatusOK, code)
	var img struct {
		ID          string `json:"Id"`
		RepoDigests []string
	}
	require.NoError(t, json.Unmarshal([]byte(body), &img))
	assert.Equal(t, []string{"ghcr.io/org/x@" + d}, img.RepoDigests)
	code, _ = engineCall(t, e, http.MethodGet, "/images/ghcr.io/org/y:latest/json", nil, "")
	assert.Equal(t, http.StatusNotFound, code)
	code, body = engineCall(t, e, http.MethodGet, "/images/json", nil, "")
	require.Equal(t, http.StatusOK, code)
	var list []struct{ RepoTags []string }
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list, 1)
	assert.Equal(t, []string{"ghcr.io/org/x:latest"}, list[0].RepoTags)
}

// A container is recreated as the examples do it: list by ancestor,
// inspect, stop, remove, create with the same name and config, start.
func TestDockerEngineRecreatesAContainer(t *testing.T) {
	const img = "ghcr.io/org/x:latest"
	e := registrytest.NewDockerEngine(
		registrytest.DockerContainer{ID: "c1", Name: "ws-1", Image: img, Running: true, Env: []string{"WS=1"}},
		registrytest.DockerContainer{ID: "c2", Name: "other", Image: "ghcr.io/org/y:latest", Running: true},
	)
	defer e.Close()
	for _, filters := range []string{`{"ancestor":["` + img + `"]}`, `{"ancestor":{"` + img + `":true}}`} {
		code, body := engineCall(t, e, http.MethodGet, "/containers/json?"+url.Values{"all": {"1"}, "filters": {filters}}.Encode(), nil, "")
		require.Equal(t, http.StatusOK, code)
		var list []struct {
			ID    string `json:"Id"`
			Names []string
			State string
		}
		require.NoError(t, json.Unmarshal([]byte(body), &list))
		require.Len(t, list, 1, filters)
		assert.Equal(t, "c1", list[0].ID)
		assert.Equal(t, []string{"/ws-1"}, list[0].Names)
		assert.Equal(t, "running", list[0].State)
	}
	code, body := engineCall(t, e, http.MethodGet, "/containers/c1/json", nil, "")
	require.Equal(t, http.StatusOK, code)
	var inspect struct {
		Name   string
		State  struct{ Running bool }
		Config struct {
			Image string
			Env   []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &inspect))
	assert.Equal(t, "/ws-1", inspect.Name)
	assert.True(t, inspect.State.Running)
	assert.Equal(t, []string{"WS=1"}, inspect.Config.Env)

	code, _ = engineCall(t, e, http.MethodDelete, "/containers/c1", nil, "")
	assert.Equal(t, http.StatusConflict, code, "a running container is not removed")
	for _, step := range []struct{ method, path string }{{http.MethodPost, "/containers/c1/stop"}, {http.MethodDelete, "/containers/c1"}} {
		code, body := engineCall(t, e, step.method, step.path, nil, "")
		require.Equal(t, http.StatusNoContent, code, body)
	}
	e.SetImage(img, registrytest.Digest(img)) // a container is created from a local image
	code, body = engineCall(t, e, http.MethodPost, "/containers/create?name=ws-1", http.Header{"Content-Type": {"application/json"}},
		`{"Image":"`+img+`","Env":["WS=1"],"HostConfig":{}}`)
	require.Equal(t, http.StatusCreated, code, body)
	var created struct {
		ID string `json:"Id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	code, _ = engineCall(t, e, http.MethodPost, "/containers/create?name=ws-1", nil, `{"Image":"`+img+`"}`)
	assert.Equal(t, http.StatusConflict, code, "the name is in use")
	code, _ = engineCall(t, e, http.MethodPost, "/containers/"+created.ID+"/start", nil, "")
	require.Equal(t, http.StatusNoContent, code)
	c := e.Containers()["ws-1"]
	assert.Equal(t, registrytest.DockerContainer{ID: created.ID, Name: "ws-1", Image: img, Running: true, Env: []string{"WS=1"}}, c)
	code, _ = engineCall(t, e, http.MethodGet, "/containers/gone/json", nil, "")
	assert.Equal(t, http.StatusNotFound, code)
}
