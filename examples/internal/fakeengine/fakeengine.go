// Package fakeengine is an httptest server that speaks the part of the
// Docker Engine API the examples use — image pull and tag, container list,
// inspect, stop, remove, create and start — and records what it was sent,
// decoding X-Registry-Auth. It serves tests only, on loopback.
package fakeengine

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// Pull is one image pull the engine received.
type Pull struct {
	FromImage, Tag string
	// HasAuth reports that the request carried an X-Registry-Auth header;
	// Auth is what the daemon's decoder read from it.
	HasAuth bool
	Auth    registry.AuthConfig
}

// Container is a container the engine knows.
type Container struct {
	ID, Name, Image string
	Running         bool
	Env             []string
}

// Engine is the imitation Docker Engine.
type Engine struct {
	srv *httptest.Server

	mu         sync.Mutex
	pulls      []Pull
	tags       []string
	containers map[string]*Container
	nextID     int
	failPull   map[string]string // fromImage -> error message
	local      map[string]string // image name -> repo@digest it was pulled at
}

// New starts an engine holding containers.
func New(containers ...Container) *Engine {
	e := &Engine{containers: map[string]*Container{}, failPull: map[string]string{}, local: map[string]string{}}
	for _, c := range containers {
		c := c
		e.containers[c.ID] = &c
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Close stops the engine.
func (e *Engine) Close() { e.srv.Close() }

// Client returns a Docker Engine client for this engine.
func (e *Engine) Client() (*client.Client, error) {
	return client.New(client.WithHost("tcp://"+strings.TrimPrefix(e.srv.URL, "http://")), client.WithAPIVersion("1.47"))
}

// FailPull makes pulls of fromImage fail with msg, reported in the stream as
// the Engine does.
func (e *Engine) FailPull(fromImage, msg string) {
	e.mu.Lock()
	e.failPull[fromImage] = msg
	e.mu.Unlock()
}

// SetLocal records that image ("repo:tag") is present, pulled at digest.
func (e *Engine) SetLocal(image, digest string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	repo := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo = image[:i]
	}
	e.local[image] = repo + "@" + digest
}

// Pulls returns the pulls received.
func (e *Engine) Pulls() []Pull {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Pull(nil), e.pulls...)
}

// Tags returns the "source -> target" tag operations received.
func (e *Engine) Tags() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tags...)
}

// Containers returns the containers, by name.
func (e *Engine) Containers() map[string]Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]Container{}
	for _, c := range e.containers {
		out[c.Name] = *c
	}
	return out
}

var route = regexp.MustCompile(`^/v[0-9.]+(/.*)$`)

func (e *Engine) serve(w http.ResponseWriter, r *http.Request) {
	m := route.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	path := m[1]
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && path == "/images/create":
		e.pull(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/tag"):
		src := strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/tag")
		e.tags = append(e.tags, src+" -> "+r.URL.Query().Get("repo")+":"+r.URL.Query().Get("tag"))
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json")
		rd, ok := e.local[name]
		if !ok {
			http.Error(w, `{"message":"No such image: `+name+`"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Id": "sha256:" + strings.Repeat("1", 64), "RepoDigests": []string{rd}})
	case r.Method == http.MethodGet && path == "/containers/json":
		e.list(w, r)
	case r.Method == http.MethodPost && path == "/containers/create":
		e.create(w, r)
	default:
		e.containerOp(w, r, path)
	}
}

func (e *Engine) pull(w http.ResponseWriter, r *http.Request) {
	p := Pull{FromImage: r.URL.Query().Get("fromImage"), Tag: r.URL.Query().Get("tag")}
	if h := r.Header.Get(registry.AuthHeader); h != "" {
		a, err := authconfig.Decode(h) // the daemon's decoder
		if err != nil {
			http.Error(w, `{"message":"invalid X-Registry-Auth"}`, http.StatusBadRequest)
			return
		}
		p.Auth, p.HasAuth = *a, true
	}
	e.pulls = append(e.pulls, p)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(map[string]string{"status": "Pulling from " + p.FromImage, "id": p.Tag})
	if msg, ok := e.failPull[p.FromImage]; ok {
		_ = enc.Encode(map[string]any{"errorDetail": map[string]string{"message": msg}, "error": msg})
		return
	}
	_ = enc.Encode(map[string]string{"status": "Status: Downloaded newer image for " + p.FromImage + ":" + p.Tag})
}

func (e *Engine) list(w http.ResponseWriter, r *http.Request) {
	var filters map[string]map[string]bool
	_ = json.Unmarshal([]byte(r.URL.Query().Get("filters")), &filters)
	all := r.URL.Query().Get("all") == "1" || r.URL.Query().Get("all") == "true"
	var out []container.Summary
	for _, c := range e.containers {
		if !all && !c.Running {
			continue
		}
		if anc := filters["ancestor"]; len(anc) > 0 && !anc[c.Image] {
			continue
		}
		state := container.StateExited
		if c.Running {
			state = container.StateRunning
		}
		out = append(out, container.Summary{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, State: state})
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (e *Engine) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		container.Config
		HostConfig *container.HostConfig
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"message":"bad body"}`, http.StatusBadRequest)
		return
	}
	name := r.URL.Query().Get("name")
	for _, c := range e.containers {
		if c.Name == name {
			http.Error(w, `{"message":"Conflict. The container name is already in use"}`, http.StatusConflict)
			return
		}
	}
	e.nextID++
	id := fmt.Sprintf("new%061d", e.nextID)
	e.containers[id] = &Container{ID: id, Name: name, Image: body.Image, Env: body.Env}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"Id": id, "Warnings": []string{}})
}

func (e *Engine) containerOp(w http.ResponseWriter, r *http.Request, path string) {
	rest, ok := strings.CutPrefix(path, "/containers/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	id, op, _ := strings.Cut(rest, "/")
	c := e.containers[id]
	if c == nil {
		http.Error(w, `{"message":"No such container: `+id+`"}`, http.StatusNotFound)
		return
	}
	switch {
	case r.Method == http.MethodGet && op == "json":
		_ = json.NewEncoder(w).Encode(container.InspectResponse{
			ID: c.ID, Name: "/" + c.Name, Image: "sha256:" + strings.Repeat("0", 64),
			State:      &container.State{Running: c.Running},
			Config:     &container.Config{Image: c.Image, Env: c.Env},
			HostConfig: &container.HostConfig{},
		})
	case r.Method == http.MethodPost && op == "stop":
		c.Running = false
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && op == "start":
		c.Running = true
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && op == "":
		if c.Running {
			http.Error(w, `{"message":"cannot remove a running container"}`, http.StatusConflict)
			return
		}
		delete(e.containers, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}
