package registrytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
)

// The Docker Engine API as this imitation speaks it. Every endpoint and
// field below is from the Engine API reference, the OpenAPI document
// api/swagger.yaml of github.com/moby/moby (https://docs.docker.com/reference/api/engine/);
// the paths and fields used are the same in the docker/docker v28 tree and
// in moby/moby api v1.55. Only the fields the examples' clients read or
// send are carried; the API's open schema lets a client ignore the rest.

// dockerEngineAPIVersion is the API version the imitation announces on
// /_ping (swagger.yaml: /_ping, response header Api-Version).
const dockerEngineAPIVersion = "1.47"

// DockerPull is one image pull (POST /images/create) a [DockerEngine]
// received.
type DockerPull struct {
	// FromImage and Tag are the query parameters fromImage and tag
	// (swagger.yaml: /images/create, parameters); Tag holds a digest for a
	// pull by digest.
	FromImage, Tag string
	// RegistryAuth is the X-Registry-Auth header as sent, "" when none was
	// (swagger.yaml: /images/create, parameter X-Registry-Auth).
	RegistryAuth string
	// Credential and ServerAddress are what the daemon reads from
	// RegistryAuth: base64url of the AuthConfig JSON (swagger.yaml:
	// "# Authentication" and definitions/AuthConfig; decoded as moby's
	// api/pkg/authconfig.Decode does).
	Credential    authn.Credential
	ServerAddress string
}

// DockerContainer is a container a [DockerEngine] holds.
type DockerContainer struct {
	ID, Name, Image string
	Running         bool
	Env             []string
}

// DockerEngine is an httptest server imitating the part of the Docker
// Engine API that pulls images and recreates containers: image pull
// (recording X-Registry-Auth), tag, inspect and list; container list,
// inspect, create, start, stop and remove; and /_ping. Point a Docker
// client at [DockerEngine.DockerHost]. It is safe for concurrent use and
// listens on loopback only.
type DockerEngine struct {
	srv *httptest.Server

	mu         sync.Mutex
	pulls      []DockerPull
	tags       []string
	containers map[string]*DockerContainer
	nextID     int
	failPull   map[string]string // fromImage -> error message
	images     map[string]string // "repo:tag" -> "repo@digest" it was pulled at
}

// NewDockerEngine starts an engine holding containers. Close it when done.
func NewDockerEngine(containers ...DockerContainer) *DockerEngine {
	e := &DockerEngine{containers: map[string]*DockerContainer{}, failPull: map[string]string{}, images: map[string]string{}}
	for _, c := range containers {
		e.containers[c.ID] = &c
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Close stops the engine.
func (e *DockerEngine) Close() { e.srv.Close() }

// DockerHost returns the engine's address as DOCKER_HOST and Docker
// clients' WithHost take it: "tcp://127.0.0.1:<port>".
func (e *DockerEngine) DockerHost() string {
	return "tcp://" + strings.TrimPrefix(e.srv.URL, "http://")
}

// FailPull makes pulls of fromImage (a repository, without tag) fail with
// msg, reported in the progress stream as the Engine does.
func (e *DockerEngine) FailPull(fromImage, msg string) {
	e.mu.Lock()
	e.failPull[fromImage] = msg
	e.mu.Unlock()
}

// SetImage records that image ("repo:tag") is present, pulled at digest.
func (e *DockerEngine) SetImage(image, digest string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.images[image] = repository(image) + "@" + digest
}

// Pulls returns the pulls received, in order.
func (e *DockerEngine) Pulls() []DockerPull {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]DockerPull(nil), e.pulls...)
}

// Tags returns the tag operations received, "source -> repo:tag".
func (e *DockerEngine) Tags() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tags...)
}

// Containers returns the containers, keyed by name.
func (e *DockerEngine) Containers() map[string]DockerContainer {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]DockerContainer, len(e.containers))
	for _, c := range e.containers {
		c := *c
		c.Env = append([]string(nil), c.Env...)
		out[c.Name] = c
	}
	return out
}

// repository returns image without its tag.
func repository(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

// versioned matches a versioned path, "/v1.47/images/create"; an unversioned
// path is served alike (swagger.yaml, info.description: "API without a
// version-prefix").
var versioned = regexp.MustCompile(`^/v[0-9]+\.[0-9]+(/.*)$`)

func (e *DockerEngine) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if m := versioned.FindStringSubmatch(path); m != nil {
		path = m[1]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case get && path == "/_ping":
		w.Header().Set("Api-Version", dockerEngineAPIVersion)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
	case r.Method == http.MethodPost && path == "/images/create":
		e.pull(w, r)
	case get && path == "/images/json":
		e.listImages(w)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/tag"):
		// swagger.yaml: /images/{name}/tag, query repo and tag; 201 Created.
		src := strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/tag")
		q := r.URL.Query()
		e.tags = append(e.tags, src+" -> "+q.Get("repo")+":"+q.Get("tag"))
		w.WriteHeader(http.StatusCreated)
	case get && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		e.inspectImage(w, strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json"))
	case get && path == "/containers/json":
		e.listContainers(w, r)
	case r.Method == http.MethodPost && path == "/containers/create":
		e.create(w, r)
	default:
		e.containerOp(w, r, path)
	}
}

// apiError answers as the Engine does: {"message": ...} (swagger.yaml:
// definitions/ErrorResponse).
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Message string `json:"message"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authConfig is the part of swagger.yaml's definitions/AuthConfig that
// X-Registry-Auth carries (with identitytoken and registrytoken, which
// moby's api/types/registry.AuthConfig adds).
type authConfig struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	ServerAddress string `json:"serveraddress"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// decodeRegistryAuth reads X-Registry-Auth as moby's
// api/pkg/authconfig.Decode does: base64url with padding, one JSON
// document; "" and "{}" are anonymous.
func decodeRegistryAuth(h string) (authConfig, error) {
	var a authConfig
	if h == "" {
		return a, nil
	}
	raw, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		return a, fmt.Errorf("invalid X-Registry-Auth header: must be a valid base64url-encoded string")
	}
	if bytes.Equal(raw, []byte("{}")) {
		return a, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&a); err != nil {
		return authConfig{}, fmt.Errorf("invalid X-Registry-Auth header: invalid JSON: %w", err)
	}
	if dec.More() {
		return authConfig{}, fmt.Errorf("invalid X-Registry-Auth header: multiple JSON documents not allowed")
	}
	return a, nil
}

// pull serves POST /images/create: a stream of JSON progress messages
// (swagger.yaml: definitions/CreateImageInfo, fields status, id,
// errorDetail.message; clients also read the legacy "error" field).
func (e *DockerEngine) pull(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := DockerPull{FromImage: q.Get("fromImage"), Tag: q.Get("tag"), RegistryAuth: r.Header.Get("X-Registry-Auth")}
	a, err := decodeRegistryAuth(p.RegistryAuth)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.Credential = authn.Credential{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
	p.ServerAddress = a.ServerAddress
	e.pulls = append(e.pulls, p)
	type errorDetail struct {
		Message string `json:"message"`
	}
	type progress struct {
		Status      string       `json:"status,omitempty"`
		ID          string       `json:"id,omitempty"`
		ErrorDetail *errorDetail `json:"errorDetail,omitempty"`
		Error       string       `json:"error,omitempty"`
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(progress{Status: "Pulling from " + p.FromImage, ID: p.Tag})
	if msg, ok := e.failPull[p.FromImage]; ok {
		_ = enc.Encode(progress{ErrorDetail: &errorDetail{Message: msg}, Error: msg})
		return
	}
	if !strings.Contains(p.Tag, ":") { // a tag, not a digest: the image is now local
		e.images[p.FromImage+":"+p.Tag] = p.FromImage + "@" + Digest(p.FromImage+":"+p.Tag)
	}
	_ = enc.Encode(progress{Status: "Status: Downloaded newer image for " + p.FromImage + ":" + p.Tag})
}

// image is the part of swagger.yaml's definitions/ImageInspect and
// definitions/ImageSummary the examples read: Id, RepoTags, RepoDigests.
type image struct {
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
}

func imageOf(name, repoDigest string) image {
	return image{ID: Digest(repoDigest), RepoTags: []string{name}, RepoDigests: []string{repoDigest}}
}

// inspectImage serves GET /images/{name}/json (swagger.yaml); 404 with an
// ErrorResponse for an image not present.
func (e *DockerEngine) inspectImage(w http.ResponseWriter, name string) {
	rd, ok := e.images[name]
	if !ok {
		apiError(w, http.StatusNotFound, "No such image: "+name)
		return
	}
	writeJSON(w, http.StatusOK, imageOf(name, rd))
}

// listImages serves GET /images/json (swagger.yaml): an array of
// ImageSummary.
func (e *DockerEngine) listImages(w http.ResponseWriter) {
	out := []image{}
	for name, rd := range e.images {
		out = append(out, imageOf(name, rd))
	}
	writeJSON(w, http.StatusOK, out)
}

// filterValues reads one filter of a "filters" query parameter, in either
// encoding clients send: map[string][]string (swagger.yaml:
// /containers/json, parameter filters) or the map[string]map[string]bool
// that docker/docker's api/types/filters.ToJSON writes.
func filterValues(raw, key string) []string {
	if raw == "" {
		return nil
	}
	var lists map[string][]string
	if json.Unmarshal([]byte(raw), &lists) == nil {
		return lists[key]
	}
	var sets map[string]map[string]bool
	if json.Unmarshal([]byte(raw), &sets) == nil {
		var out []string
		for v, on := range sets[key] {
			if on {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

// containerSummary is the part of swagger.yaml's
// definitions/ContainerSummary the examples read.
type containerSummary struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
	Image string   `json:"Image"`
	State string   `json:"State"` // "running" or "exited" (definitions/ContainerState, Status)
}

// listContainers serves GET /containers/json (swagger.yaml): running
// containers, every one with all=1 or all=true, filtered by ancestor.
func (e *DockerEngine) listContainers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := q.Get("all") == "1" || q.Get("all") == "true"
	ancestors := filterValues(q.Get("filters"), "ancestor")
	out := []containerSummary{}
	for _, c := range e.containers {
		if !all && !c.Running {
			continue
		}
		if len(ancestors) > 0 && !contains(ancestors, c.Image) {
			continue
		}
		state := "exited"
		if c.Running {
			state = "running"
		}
		out = append(out, containerSummary{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, State: state})
	}
	writeJSON(w, http.StatusOK, out)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// create serves POST /containers/create?name= (swagger.yaml): the body is
// a ContainerConfig (Image, Env are kept) with HostConfig; the answer 201
// is a ContainerCreateResponse (Id, Warnings), 409 for a name in use.
func (e *DockerEngine) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Image string   `json:"Image"`
		Env   []string `json:"Env"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad body: "+err.Error())
		return
	}
	name := r.URL.Query().Get("name")
	for _, c := range e.containers {
		if c.Name == name {
			apiError(w, http.StatusConflict, "Conflict. The container name \"/"+name+"\" is already in use")
			return
		}
	}
	e.nextID++
	id := fmt.Sprintf("new%061d", e.nextID)
	e.containers[id] = &DockerContainer{ID: id, Name: name, Image: body.Image, Env: body.Env}
	writeJSON(w, http.StatusCreated, struct {
		ID       string   `json:"Id"`
		Warnings []string `json:"Warnings"`
	}{id, []string{}})
}

// containerOp serves GET /containers/{id}/json, POST /containers/{id}/stop
// and /start (204), and DELETE /containers/{id} (204; 409 while running)
// (swagger.yaml, those paths).
func (e *DockerEngine) containerOp(w http.ResponseWriter, r *http.Request, path string) {
	rest, ok := strings.CutPrefix(path, "/containers/")
	if !ok {
		apiError(w, http.StatusNotFound, "page not found")
		return
	}
	id, op, _ := strings.Cut(rest, "/")
	c := e.containers[id]
	if c == nil {
		apiError(w, http.StatusNotFound, "No such container: "+id)
		return
	}
	switch {
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && op == "json":
		// definitions/ContainerInspectResponse: Id, Name, Image (the image
		// ID), State (definitions/ContainerState), Config
		// (definitions/ContainerConfig), HostConfig.
		type state struct {
			Status  string `json:"Status"`
			Running bool   `json:"Running"`
		}
		type config struct {
			Image string   `json:"Image"`
			Env   []string `json:"Env"`
		}
		status := "exited"
		if c.Running {
			status = "running"
		}
		writeJSON(w, http.StatusOK, struct {
			ID         string         `json:"Id"`
			Name       string         `json:"Name"`
			Image      string         `json:"Image"`
			State      state          `json:"State"`
			Config     config         `json:"Config"`
			HostConfig map[string]any `json:"HostConfig"`
		}{c.ID, "/" + c.Name, Digest(c.Image), state{status, c.Running}, config{c.Image, c.Env}, map[string]any{}})
	case r.Method == http.MethodPost && op == "stop":
		c.Running = false
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && op == "start":
		c.Running = true
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && op == "":
		if c.Running {
			apiError(w, http.StatusConflict, "cannot remove container \"/"+c.Name+"\": container is running: stop the container before removing or force remove")
			return
		}
		delete(e.containers, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusNotFound, "page not found")
	}
}
