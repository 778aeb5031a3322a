package registrytest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// imageID is the ID of the image whose manifest has digest manifest: the
// one function of the image that image inspect and list (Id) and container
// inspect and list (Image, ImageID) all report, so that a client can ask
// whether a container runs the image it just pulled. swagger.yaml:
// definitions/ImageInspect, Id: "the content-addressable ID of an image ...
// calculated from the image's configuration"; it "differs from the
// RepoDigests", which are digests of manifests. The imitation has no
// configuration, so it derives one from the manifest digest: the same
// manifest, in whatever repository, is the same image.
func imageID(manifest string) string {
	return Digest("config of " + manifest)
}

// manifestDigest is the digest a pull of ref brings: the digest of a
// "repo@digest" reference, else the imitation's registry answers a tag
// with [Digest] of "repo:tag".
func manifestDigest(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return Digest(withTag(ref))
}

// pullRef is the reference a pull (POST /images/create) names. swagger.yaml:
// /images/create, parameter fromImage: "If both fromImage and tag are
// provided, tag takes precedence. If fromImage includes a digest, the image
// is pulled by digest, and tag is ignored. If neither a tag nor digest is
// specified, all tags are pulled"; parameter tag: "Tag or digest". The
// imitation does not pull all tags: an empty tag, with none in fromImage,
// pulls "latest". Docker clients always send a tag ("latest" by default)
// unless asked for all tags (moby's client/image_pull.go,
// getAPITagFromNamedRef and ImagePullOptions.All).
func pullRef(fromImage, tag string) string {
	if strings.Contains(fromImage, "@") {
		return fromImage
	}
	repo := repository(fromImage)
	switch {
	case strings.Contains(tag, ":"): // a digest, "sha256:..."
		return repo + "@" + tag
	case tag != "":
		return repo + ":" + tag
	}
	return withTag(fromImage)
}

// pull serves POST /images/create: a stream of JSON progress messages
// (swagger.yaml: definitions/CreateImageInfo, fields status, id,
// errorDetail.message; clients also read the legacy "error" field). The
// image pulled is then local under the reference pulled, a tag or a
// digest, and inspectable by it.
func (e *DockerEngine) pull(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := DockerPull{FromImage: q.Get("fromImage"), Tag: q.Get("tag"), RegistryAuth: r.Header.Get("X-Registry-Auth")}
	a, err := decodeRegistryAuth(p.RegistryAuth)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.Credential = authnCredential(a)
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
	ref := pullRef(p.FromImage, p.Tag)
	repo := repository(ref)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(progress{Status: "Pulling from " + repo, ID: strings.TrimPrefix(ref, repo)[1:]})
	if msg, ok := e.failPull[repo]; ok {
		_ = enc.Encode(progress{ErrorDetail: &errorDetail{Message: msg}, Error: msg})
		return
	}
	e.images[ref] = repo + "@" + manifestDigest(ref)
	_ = enc.Encode(progress{Status: "Status: Downloaded newer image for " + ref})
}

// lookupImage finds a local image as the Engine resolves "Image name or
// ID" (swagger.yaml: /images/{name}/json and /images/{name}/tag, parameter
// name): a reference, given the tag "latest" when it has none, or a full
// image ID. It returns the image's ID.
func (e *DockerEngine) lookupImage(name string) (string, bool) {
	if rd, ok := e.images[withTag(name)]; ok {
		return imageID(manifestDigest(rd)), true
	}
	for _, rd := range e.images {
		if id := imageID(manifestDigest(rd)); id == name {
			return id, true
		}
	}
	return "", false
}

// noSuchImage is the Engine's message for an image not present (moby's
// daemon/images/image.go, ErrImageDoesNotExist: the reference with its
// default tag; the Engine also shortens docker.io names, which the
// imitation does not).
func noSuchImage(name string) string {
	if strings.HasPrefix(name, "sha256:") {
		return "No such image: " + name
	}
	return "No such image: " + withTag(name)
}

// image is the part of swagger.yaml's definitions/ImageInspect and
// definitions/ImageSummary the examples read: Id, RepoTags, RepoDigests.
type image struct {
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
}

// imageByID gathers every reference to the image id: tags in RepoTags,
// "repo@digest" in RepoDigests (swagger.yaml: definitions/ImageInspect).
func (e *DockerEngine) imageByID(id string) image {
	img := image{ID: id, RepoTags: []string{}, RepoDigests: []string{}}
	seen := map[string]bool{}
	for ref, rd := range e.images {
		if imageID(manifestDigest(rd)) != id {
			continue
		}
		if !strings.Contains(ref, "@") {
			img.RepoTags = append(img.RepoTags, ref)
		}
		if !seen[rd] {
			seen[rd] = true
			img.RepoDigests = append(img.RepoDigests, rd)
		}
	}
	sort.Strings(img.RepoTags)
	sort.Strings(img.RepoDigests)
	return img
}

// inspectImage serves GET /images/{name}/json (swagger.yaml); 404 with an
// ErrorResponse for an image not present.
func (e *DockerEngine) inspectImage(w http.ResponseWriter, name string) {
	id, ok := e.lookupImage(name)
	if !ok {
		apiError(w, http.StatusNotFound, noSuchImage(name))
		return
	}
	writeJSON(w, http.StatusOK, e.imageByID(id))
}

// listImages serves GET /images/json (swagger.yaml): an array of
// ImageSummary, one per image ID.
func (e *DockerEngine) listImages(w http.ResponseWriter) {
	ids := map[string]bool{}
	for _, rd := range e.images {
		ids[imageID(manifestDigest(rd))] = true
	}
	out := []image{}
	for id := range ids {
		out = append(out, e.imageByID(id))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

// tag serves POST /images/{name}/tag?repo=&tag= (swagger.yaml: 201; 400
// "Bad parameter"; 404 "No such image"): the new reference repo:tag (tag
// "latest" when empty, moby's api/server/httputils/form.go,
// RepoTagReference) then names the source image in inspect and list. The
// Engine checks repo before the source (moby's
// api/server/router/image/image_routes.go, postImagesTag).
func (e *DockerEngine) tag(w http.ResponseWriter, r *http.Request, src string) {
	q := r.URL.Query()
	repo, tag := q.Get("repo"), q.Get("tag")
	if repo == "" || strings.Contains(repo, "@") {
		apiError(w, http.StatusBadRequest, "invalid repo "+`"`+repo+`"`+": give the repository to tag in, without tag or digest")
		return
	}
	if tag == "" {
		tag = "latest"
	}
	id, ok := e.lookupImage(src)
	if !ok {
		apiError(w, http.StatusNotFound, noSuchImage(src))
		return
	}
	target := repo + ":" + tag
	e.tags = append(e.tags, src+" -> "+target)
	e.images[target] = repo + "@" + e.manifestOf(id)
	w.WriteHeader(http.StatusCreated)
}

// manifestOf returns the manifest digest of the local image id.
func (e *DockerEngine) manifestOf(id string) string {
	for _, rd := range e.images {
		if d := manifestDigest(rd); imageID(d) == id {
			return d
		}
	}
	return ""
}
