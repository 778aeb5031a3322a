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
	containers map[string]*engineContainer // by container ID
	nextID     int
	failPull   map[string]string // repository -> error message
	// images maps each local reference ("repo:tag" or "repo@digest") to
	// the "repo@digest" it was pulled at; the image ID is imageID of that
	// digest.
	images map[string]string
}

// engineContainer is a container with the ID of the image it was created
// from, fixed at creation as the Engine fixes it (swagger.yaml:
// definitions/ContainerInspectResponse, Image: "The ID (digest) of the
// image that this container was created from").
type engineContainer struct {
	DockerContainer
	imageID string
}

// NewDockerEngine starts an engine holding containers. Close it when done.
// Each container runs the image with manifest digest [Digest](Image) (its
// Image given a "latest" tag when it has neither tag nor digest; for
// "repo@digest", that digest): the image a pull of Image by tag brings, so
// [DockerEngine.SetImage](Image, Digest(Image)) or such a pull makes the
// image it runs present, and a pull by another digest replaces it.
func NewDockerEngine(containers ...DockerContainer) *DockerEngine {
	e := &DockerEngine{containers: map[string]*engineContainer{}, failPull: map[string]string{}, images: map[string]string{}}
	for _, c := range containers {
		e.containers[c.ID] = &engineContainer{DockerContainer: c, imageID: imageID(manifestDigest(c.Image))}
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

// FailPull makes pulls of fromImage (a repository, without tag or digest)
// fail with msg, reported in the progress stream as the Engine does.
func (e *DockerEngine) FailPull(fromImage, msg string) {
	e.mu.Lock()
	e.failPull[fromImage] = msg
	e.mu.Unlock()
}

// SetImage records that image ("repo:tag") is present, pulled at digest.
func (e *DockerEngine) SetImage(image, digest string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.images[withTag(image)] = repository(image) + "@" + digest
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
	for _, ec := range e.containers {
		c := ec.DockerContainer
		c.Env = append([]string(nil), c.Env...)
		out[c.Name] = c
	}
	return out
}

// repository returns image without its tag or digest.
func repository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

// withTag returns ref with the tag "latest" when it has neither tag nor
// digest, as the Engine reads a reference (moby's
// daemon/images/image.go, ErrImageDoesNotExist: reference.TagNameOnly).
func withTag(ref string) string {
	if repository(ref) == ref {
		return ref + ":latest"
	}
	return ref
}

// boolValue reads a boolean query parameter as the Engine does (moby's
// api/server/httputils/form.go, BoolValue): "", "0", "no", "false" and
// "none" are false, anything else true.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
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
		e.tag(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/tag"))
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

// authnCredential is the credential a decoded X-Registry-Auth carries.
func authnCredential(a authConfig) authn.Credential {
	return authn.Credential{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
}
