package registrytest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Engine's answers to what a client may send, endpoint by endpoint
// (swagger.yaml of github.com/moby/moby, cited beside each behaviour in
// dockerengine*.go).

const (
	fidelityImage = "ghcr.io/org/x:latest"
	runningID     = "aaaa1111"
	stoppedID     = "aaaa2222"
)

func fidelityEngine(t *testing.T) *registrytest.DockerEngine {
	t.Helper()
	e := registrytest.NewDockerEngine(
		registrytest.DockerContainer{ID: runningID, Name: "web-1", Image: fidelityImage, Running: true},
		registrytest.DockerContainer{ID: stoppedID, Name: "db-1", Image: "ghcr.io/org/y:latest"},
	)
	t.Cleanup(e.Close)
	return e
}

// A container's {id} is its ID, its name with or without "/", or a unique
// ID prefix.
func TestDockerEngineContainerIDOrName(t *testing.T) {
	e := fidelityEngine(t)
	for _, tc := range []struct {
		ref, wantID string
		status      int
		message     string
	}{
		{runningID, runningID, http.StatusOK, ""},
		{"web-1", runningID, http.StatusOK, ""},
		{"%2Fweb-1", runningID, http.StatusOK, ""},
		{"aaaa2", stoppedID, http.StatusOK, ""},
		{"aaaa", "", http.StatusBadRequest, "multiple IDs found with provided prefix: aaaa"},
		{"web", "", http.StatusNotFound, "No such container: web"},
		{"bbbb", "", http.StatusNotFound, "No such container: bbbb"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			code, body := engineCall(t, e, http.MethodGet, "/containers/"+tc.ref+"/json", nil, "")
			require.Equal(t, tc.status, code, body)
			var got struct {
				ID      string `json:"Id"`
				Message string `json:"message"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			assert.Equal(t, tc.wantID, got.ID)
			assert.Equal(t, tc.message, got.Message)
		})
	}
}

// A container's image ID (inspect Image, list ImageID) is the Id image
// inspect and list report for the image it was created from; a newer pull
// of the tag is another image.
func TestDockerEngineImageIDsAgree(t *testing.T) {
	e := fidelityEngine(t)
	imageIDOf := func(t *testing.T, name string) string {
		code, body := engineCall(t, e, http.MethodGet, "/images/"+name+"/json", nil, "")
		require.Equal(t, http.StatusOK, code, body)
		var img struct {
			ID string `json:"Id"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &img))
		return img.ID
	}
	containerImage := func(t *testing.T, id string) (inspect, list string) {
		_, body := engineCall(t, e, http.MethodGet, "/containers/"+id+"/json", nil, "")
		var in struct{ Image string }
		require.NoError(t, json.Unmarshal([]byte(body), &in))
		_, body = engineCall(t, e, http.MethodGet, "/containers/json?"+url.Values{"filters": {`{"name":["^/web-1$"]}`}}.Encode(), nil, "")
		var ls []struct{ ImageID string }
		require.NoError(t, json.Unmarshal([]byte(body), &ls))
		require.Len(t, ls, 1)
		return in.Image, ls[0].ImageID
	}
	for _, tc := range []struct {
		name, ref string
		pull      url.Values
		same      bool
	}{
		{"pulled by tag: the image the container runs", fidelityImage, url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {"latest"}}, true},
		{"a newer build by digest", "ghcr.io/org/x@" + registrytest.Digest("v2"), url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {registrytest.Digest("v2")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := engineCall(t, e, http.MethodPost, "/images/create?"+tc.pull.Encode(), nil, "")
			require.Equal(t, http.StatusOK, code)
			want := imageIDOf(t, tc.ref)
			inspect, list := containerImage(t, runningID)
			assert.Equal(t, inspect, list, "inspect and list agree")
			assert.Equal(t, tc.same, inspect == want, "container %s, image %s", inspect, want)
		})
	}
	// A container created from the image runs it.
	code, body := engineCall(t, e, http.MethodPost, "/images/ghcr.io/org/x@"+registrytest.Digest("v2")+"/tag?repo=ghcr.io/org/x&tag=latest", nil, "")
	require.Equal(t, http.StatusCreated, code, body)
	code, body = engineCall(t, e, http.MethodPost, "/containers/create?name=web-2", nil, `{"Image":"`+fidelityImage+`"}`)
	require.Equal(t, http.StatusCreated, code, body)
	_, body = engineCall(t, e, http.MethodGet, "/containers/web-2/json", nil, "")
	var in struct{ Image string }
	require.NoError(t, json.Unmarshal([]byte(body), &in))
	assert.Equal(t, imageIDOf(t, fidelityImage), in.Image)
}

// DELETE refuses a running container unless force is set.
func TestDockerEngineForceRemove(t *testing.T) {
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"", http.StatusConflict},
		{"?force=0", http.StatusConflict},
		{"?force=false", http.StatusConflict},
		{"?force=1", http.StatusNoContent},
		{"?force=true", http.StatusNoContent},
	} {
		t.Run(tc.query, func(t *testing.T) {
			e := fidelityEngine(t)
			code, body := engineCall(t, e, http.MethodDelete, "/containers/web-1"+tc.query, nil, "")
			require.Equal(t, tc.status, code, body)
			_, present := e.Containers()["web-1"]
			assert.Equal(t, tc.status == http.StatusConflict, present)
		})
	}
}

// Tag: 404 for a source not present; a new reference is inspectable and
// listed.
func TestDockerEngineTag(t *testing.T) {
	for _, tc := range []struct {
		name, source, query string
		status              int
		inspect             string
	}{
		{"tag", fidelityImage, "repo=ghcr.io/org/x&tag=stable", http.StatusCreated, "ghcr.io/org/x:stable"},
		{"another repository", fidelityImage, "repo=reg.example/x&tag=v1", http.StatusCreated, "reg.example/x:v1"},
		{"no tag is latest", fidelityImage, "repo=reg.example/x", http.StatusCreated, "reg.example/x:latest"},
		{"no such image", "ghcr.io/org/none:latest", "repo=ghcr.io/org/x&tag=stable", http.StatusNotFound, ""},
		{"no repo", fidelityImage, "tag=stable", http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fidelityEngine(t)
			e.SetImage(fidelityImage, registrytest.Digest("v1"))
			code, body := engineCall(t, e, http.MethodPost, "/images/"+tc.source+"/tag?"+tc.query, nil, "")
			require.Equal(t, tc.status, code, body)
			if tc.status == http.StatusNotFound {
				assert.JSONEq(t, `{"message":"No such image: ghcr.io/org/none:latest"}`, body)
			}
			if tc.inspect == "" {
				return
			}
			code, body = engineCall(t, e, http.MethodGet, "/images/"+tc.inspect+"/json", nil, "")
			require.Equal(t, http.StatusOK, code, body)
			var img struct{ RepoTags []string }
			require.NoError(t, json.Unmarshal([]byte(body), &img))
			assert.Contains(t, img.RepoTags, tc.inspect)
			_, body = engineCall(t, e, http.MethodGet, "/images/json", nil, "")
			var list []struct{ RepoTags []string }
			require.NoError(t, json.Unmarshal([]byte(body), &list))
			require.Len(t, list, 1, "one image, two references")
			assert.ElementsMatch(t, []string{fidelityImage, tc.inspect}, list[0].RepoTags)
		})
	}
}

// A pull makes the image local under the reference pulled: a tag, "latest"
// for an empty tag, or a digest given in fromImage or tag.
func TestDockerEnginePullReference(t *testing.T) {
	d := registrytest.Digest("v7")
	for _, tc := range []struct {
		name      string
		q         url.Values
		inspect   string
		repoDigst string
	}{
		{"tag", url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {"v1"}}, "ghcr.io/org/x:v1", "ghcr.io/org/x@" + registrytest.Digest("ghcr.io/org/x:v1")},
		{"tag in fromImage", url.Values{"fromImage": {"ghcr.io/org/x:v1"}}, "ghcr.io/org/x:v1", "ghcr.io/org/x@" + registrytest.Digest("ghcr.io/org/x:v1")},
		{"empty tag is latest", url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {""}}, "ghcr.io/org/x:latest", "ghcr.io/org/x@" + registrytest.Digest("ghcr.io/org/x:latest")},
		{"digest as tag", url.Values{"fromImage": {"ghcr.io/org/x"}, "tag": {d}}, "ghcr.io/org/x@" + d, "ghcr.io/org/x@" + d},
		{"digest in fromImage", url.Values{"fromImage": {"ghcr.io/org/x@" + d}, "tag": {"ignored"}}, "ghcr.io/org/x@" + d, "ghcr.io/org/x@" + d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := registrytest.NewDockerEngine()
			defer e.Close()
			code, body := engineCall(t, e, http.MethodPost, "/images/create?"+tc.q.Encode(), nil, "")
			require.Equal(t, http.StatusOK, code, body)
			code, body = engineCall(t, e, http.MethodGet, "/images/"+tc.inspect+"/json", nil, "")
			require.Equal(t, http.StatusOK, code, body)
			var img struct{ RepoDigests []string }
			require.NoError(t, json.Unmarshal([]byte(body), &img))
			assert.Equal(t, []string{tc.repoDigst}, img.RepoDigests)
		})
	}
}

// The name filter matches as the Engine's does; filters the imitation does
// not implement, or the Engine does not know, are 400, not ignored.
func TestDockerEngineListFilters(t *testing.T) {
	e := fidelityEngine(t)
	for _, tc := range []struct {
		filters string
		status  int
		ids     []string
		message string
	}{
		{`{"name":["web"]}`, http.StatusOK, []string{runningID}, ""},
		{`{"name":{"-1":true}}`, http.StatusOK, []string{runningID, stoppedID}, ""},
		{`{"name":["/db-1"]}`, http.StatusOK, []string{stoppedID}, ""},
		{`{"name":["^db$"]}`, http.StatusOK, []string{}, ""},
		{`{"name":["db"],"ancestor":["` + fidelityImage + `"]}`, http.StatusOK, []string{}, ""},
		{`{"label":["app=web"]}`, http.StatusBadRequest, nil, "registrytest.DockerEngine does not implement the container filter 'label': use ancestor or name"},
		{`{"colour":["red"]}`, http.StatusBadRequest, nil, "invalid filter 'colour'"},
		{`{"name":`, http.StatusBadRequest, nil, "invalid filter"},
	} {
		t.Run(tc.filters, func(t *testing.T) {
			code, body := engineCall(t, e, http.MethodGet, "/containers/json?"+url.Values{"all": {"1"}, "filters": {tc.filters}}.Encode(), nil, "")
			require.Equal(t, tc.status, code, body)
			if tc.status != http.StatusOK {
				assert.JSONEq(t, `{"message":"`+tc.message+`"}`, body)
				return
			}
			var list []struct {
				ID string `json:"Id"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &list))
			ids := []string{}
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			assert.ElementsMatch(t, tc.ids, ids)
		})
	}
}

// Create: a generated name when none is given; 404 for an image not
// present.
func TestDockerEngineCreate(t *testing.T) {
	for _, tc := range []struct {
		name, query, image string
		status             int
		message            string
	}{
		{"named", "?name=web-2", fidelityImage, http.StatusCreated, ""},
		{"unnamed", "", fidelityImage, http.StatusCreated, ""},
		{"empty name", "?name=", fidelityImage, http.StatusCreated, ""},
		{"untagged is latest", "", "ghcr.io/org/x", http.StatusCreated, ""},
		{"no such image", "?name=web-2", "ghcr.io/org/none", http.StatusNotFound, "No such image: ghcr.io/org/none:latest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fidelityEngine(t)
			e.SetImage(fidelityImage, registrytest.Digest("v1"))
			code, body := engineCall(t, e, http.MethodPost, "/containers/create"+tc.query, nil, `{"Image":"`+tc.image+`"}`)
			require.Equal(t, tc.status, code, body)
			if tc.status != http.StatusCreated {
				assert.JSONEq(t, `{"message":"`+tc.message+`"}`, body)
				assert.Len(t, e.Containers(), 2)
				return
			}
			var created struct {
				ID string `json:"Id"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &created))
			_, body = engineCall(t, e, http.MethodGet, "/containers/"+created.ID+"/json", nil, "")
			var in struct{ Name string }
			require.NoError(t, json.Unmarshal([]byte(body), &in))
			assert.Regexp(t, `^/[a-z]+_[a-z]+[0-9]*$|^/web-2$`, in.Name)
			assert.Len(t, e.Containers(), 3, "the name is not empty and not taken")
		})
	}
}

// Start on a running container and stop on a stopped one are 304.
func TestDockerEngineStartStopNotModified(t *testing.T) {
	for _, tc := range []struct {
		op, id  string
		status  int
		running bool
	}{
		{"start", runningID, http.StatusNotModified, true},
		{"stop", stoppedID, http.StatusNotModified, false},
		{"stop", runningID, http.StatusNoContent, false},
		{"start", stoppedID, http.StatusNoContent, true},
	} {
		t.Run(tc.op+" "+tc.id, func(t *testing.T) {
			e := fidelityEngine(t)
			code, body := engineCall(t, e, http.MethodPost, "/containers/"+tc.id+"/"+tc.op, nil, "")
			require.Equal(t, tc.status, code, body)
			assert.Empty(t, body)
			for _, c := range e.Containers() {
				if c.ID == tc.id {
					assert.Equal(t, tc.running, c.Running)
				}
			}
		})
	}
}
