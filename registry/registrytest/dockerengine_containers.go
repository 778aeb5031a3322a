package registrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// findContainer resolves a container's "{id}", which swagger.yaml
// (/containers/{id}/json, /start, /stop, DELETE /containers/{id},
// parameter id) describes as "ID or name of the container", in the order
// moby's daemon/container.go (GetContainer) tries: the exact ID, the exact
// name with or without its leading "/", then a unique ID prefix. A prefix
// of more than one ID is 400 "multiple IDs found with provided prefix"
// (moby's container/view.go, GetByPrefix); no match is 404 "No such
// container: <id>" (swagger.yaml's example for those paths).
func (e *DockerEngine) findContainer(ref string) (*engineContainer, int, string) {
	if c := e.containers[ref]; c != nil {
		return c, http.StatusOK, ""
	}
	for _, c := range e.containers {
		if c.Name == strings.TrimPrefix(ref, "/") {
			return c, http.StatusOK, ""
		}
	}
	var found *engineContainer
	if ref != "" {
		for id, c := range e.containers {
			if !strings.HasPrefix(id, ref) {
				continue
			}
			if found != nil {
				return nil, http.StatusBadRequest, "multiple IDs found with provided prefix: " + ref
			}
			found = c
		}
	}
	if found == nil {
		return nil, http.StatusNotFound, "No such container: " + ref
	}
	return found, http.StatusOK, ""
}

// psFilters are the container list filters the Engine accepts (moby's
// daemon/list.go, acceptedPsFilterTags; swagger.yaml: /containers/json,
// parameter filters, "Available filters"); any other is 400 "invalid
// filter '<name>'" (moby's api/types/filters, Args.Validate).
func psFilters() map[string]bool {
	return map[string]bool{
		"ancestor": true, "before": true, "exited": true, "id": true, "isolation": true,
		"label": true, "name": true, "status": true, "health": true, "since": true,
		"volume": true, "network": true, "is-task": true, "publish": true, "expose": true,
	}
}

// parseFilters reads a "filters" query parameter in either encoding
// clients send: map[string][]string (swagger.yaml: /containers/json,
// parameter filters) or the map[string]map[string]bool that moby's
// api/types/filters.ToJSON writes. Malformed JSON is "invalid filter", as
// filters.FromJSON answers.
func parseFilters(raw string) (map[string][]string, error) {
	if raw == "" {
		return nil, nil
	}
	var lists map[string][]string
	if json.Unmarshal([]byte(raw), &lists) == nil {
		return lists, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &sets); err != nil {
		return nil, fmt.Errorf("invalid filter")
	}
	out := map[string][]string{}
	for k, set := range sets {
		for v, on := range set {
			if on {
				out[k] = append(out[k], v)
			}
		}
	}
	return out, nil
}

// nameMatches is the Engine's name filter: each value is an unanchored
// regular expression (a plain name matches as a substring), tried against
// the name with and without its leading "/"; a value that is not a valid
// expression matches only exactly (moby's api/types/filters, Args.Match;
// daemon/list.go, includeContainerInFilter).
func nameMatches(values []string, name string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, n := range []string{"/" + name, name} {
			if v == n {
				return true
			}
			if ok, err := regexp.MatchString(v, n); err == nil && ok {
				return true
			}
		}
	}
	return false
}

// containerSummary is the part of swagger.yaml's
// definitions/ContainerSummary the examples read.
type containerSummary struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
	// Image is "the image reference as was specified when creating the
	// container"; ImageID is "The ID (digest) of the image that this
	// container was created from", the Id image inspect reports.
	Image   string `json:"Image"`
	ImageID string `json:"ImageID"`
	State   string `json:"State"` // "running" or "exited" (definitions/ContainerState, Status)
}

// listContainers serves GET /containers/json (swagger.yaml): running
// containers, every one with all set, filtered by ancestor and name. The
// other filters the Engine accepts are refused with 400 rather than
// ignored, since the imitation does not implement them. The ancestor
// filter matches the reference the container was created with; the Engine
// resolves it to an image ID and its children (moby's daemon/list.go,
// foldFilter), which the imitation does not.
func (e *DockerEngine) listContainers(w http.ResponseWriter, r *http.Request) {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	for k := range filters {
		if !psFilters()[k] {
			apiError(w, http.StatusBadRequest, "invalid filter '"+k+"'")
			return
		}
		if k != "ancestor" && k != "name" {
			apiError(w, http.StatusBadRequest, "registrytest.DockerEngine does not implement the container filter '"+k+"': use ancestor or name")
			return
		}
	}
	all := boolValue(r, "all")
	out := []containerSummary{}
	for _, c := range e.containers {
		if !all && !c.Running {
			continue
		}
		if a := filters["ancestor"]; len(a) > 0 && !contains(a, c.Image) {
			continue
		}
		if !nameMatches(filters["name"], c.Name) {
			continue
		}
		out = append(out, containerSummary{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, ImageID: c.imageID, State: c.status()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

func (c *engineContainer) status() string {
	if c.Running {
		return "running"
	}
	return "exited"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// generatedName is the name the Engine gives a container created without
// one: "<adjective>_<surname>" (moby's daemon/names.go, generateNewName,
// with pkg/namesgenerator). The imitation takes them in turn from a short
// list, skipping names in use.
func (e *DockerEngine) generatedName() string {
	adjectives := []string{"admiring", "brave", "clever", "eager", "focused", "jolly"}
	surnames := []string{"curie", "hopper", "lovelace", "turing", "wozniak"}
	for i := 0; ; i++ {
		name := adjectives[i%len(adjectives)] + "_" + surnames[(i/len(adjectives))%len(surnames)]
		if i >= len(adjectives)*len(surnames) {
			name += fmt.Sprint(i / (len(adjectives) * len(surnames)))
		}
		if _, code, _ := e.findContainerByName(name); code != http.StatusOK {
			return name
		}
	}
}

func (e *DockerEngine) findContainerByName(name string) (*engineContainer, int, string) {
	for _, c := range e.containers {
		if c.Name == name {
			return c, http.StatusOK, ""
		}
	}
	return nil, http.StatusNotFound, "No such container: " + name
}

// create serves POST /containers/create?name= (swagger.yaml): the body is
// a ContainerConfig (Image, Env are kept) with HostConfig; the answer 201
// is a ContainerCreateResponse (Id, Warnings), 404 "No such image: <ref>"
// for an image not present, 409 for a name in use. Without a name the
// container gets a generated one.
func (e *DockerEngine) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Image string   `json:"Image"`
		Env   []string `json:"Env"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad body: "+err.Error())
		return
	}
	imgID, ok := e.lookupImage(body.Image)
	if !ok {
		apiError(w, http.StatusNotFound, noSuchImage(body.Image))
		return
	}
	name := strings.TrimPrefix(r.URL.Query().Get("name"), "/")
	if name == "" {
		name = e.generatedName()
	}
	if c, code, _ := e.findContainerByName(name); code == http.StatusOK {
		apiError(w, http.StatusConflict, "Conflict. The container name \"/"+name+"\" is already in use by container \""+c.ID+"\". You have to remove (or rename) that container to be able to reuse that name.")
		return
	}
	e.nextID++
	id := fmt.Sprintf("new%061d", e.nextID)
	e.containers[id] = &engineContainer{DockerContainer: DockerContainer{ID: id, Name: name, Image: body.Image, Env: body.Env}, imageID: imgID}
	writeJSON(w, http.StatusCreated, struct {
		ID       string   `json:"Id"`
		Warnings []string `json:"Warnings"`
	}{id, []string{}})
}

// containerOp serves GET /containers/{id}/json, POST /containers/{id}/stop
// and /start, and DELETE /containers/{id} (swagger.yaml, those paths).
func (e *DockerEngine) containerOp(w http.ResponseWriter, r *http.Request, path string) {
	rest, ok := strings.CutPrefix(path, "/containers/")
	if !ok {
		apiError(w, http.StatusNotFound, "page not found")
		return
	}
	slash := strings.HasPrefix(rest, "/") // a name given with its "/", "/containers//web-1/json"
	ref, op, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if slash {
		ref = "/" + ref
	}
	c, code, msg := e.findContainer(ref)
	if c == nil {
		apiError(w, code, msg)
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
		writeJSON(w, http.StatusOK, struct {
			ID         string         `json:"Id"`
			Name       string         `json:"Name"`
			Image      string         `json:"Image"`
			State      state          `json:"State"`
			Config     config         `json:"Config"`
			HostConfig map[string]any `json:"HostConfig"`
		}{c.ID, "/" + c.Name, c.imageID, state{c.status(), c.Running}, config{c.Image, c.Env}, map[string]any{}})
	case r.Method == http.MethodPost && (op == "stop" || op == "start"):
		// 204; 304 "container already stopped" / "container already
		// started", with no body (swagger.yaml: /containers/{id}/stop and
		// /start, responses).
		if c.Running == (op == "start") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		c.Running = op == "start"
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && op == "":
		// 204; 409 while running unless force ("If the container is
		// running, kill it before removing it"; swagger.yaml: DELETE
		// /containers/{id}, parameter force). The message is moby's
		// daemon/delete.go's.
		if c.Running && !boolValue(r, "force") {
			apiError(w, http.StatusConflict, "cannot remove container \"/"+c.Name+"\": container is running: stop the container before removing or force remove")
			return
		}
		delete(e.containers, c.ID)
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusNotFound, "page not found")
	}
}
