package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/molecule-ai/registrykit/examples/internal/engine"
	"github.com/molecule-ai/registrykit/registry"
)

// Path is where the handler is mounted.
const Path = "/admin/workspace-images/refresh"

// Handler serves POST /admin/workspace-images/refresh?runtime=…&recreate=…:
// it pulls the image of the named runtime (every runtime when none is named)
// through the Docker Engine with the backend's credentials and, when
// recreate is true, recreates the containers running it.
//
// An unknown runtime is a 400 that lists the known ones. The answer is JSON
// {"pulled":[images],"failed":[images],"recreated":[containers],"errors":{image:message}};
// its status is 200 unless every pull failed (502). A runtime whose name
// makes no valid image is listed in failed and errors by that name.
type Handler struct {
	Backend   registry.Backend
	Refresher *engine.Refresher
	// Runtimes is the application's list of runtimes; nil means
	// registry.DefaultRuntimes.
	Runtimes []string
	// Digests, when set, returns the digest the watcher last saw for each
	// image name; those images are pulled by digest.
	Digests func() map[string]string
	Log     *slog.Logger
}

// Result is the handler's JSON answer.
type Result struct {
	Pulled    []string          `json:"pulled"`
	Failed    []string          `json:"failed"`
	Recreated []string          `json:"recreated"`
	Errors    map[string]string `json:"errors,omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	q := r.URL.Query()
	runtimes := h.runtimes()
	if rt := strings.TrimSpace(q.Get("runtime")); rt != "" {
		if !slices.Contains(runtimes, rt) {
			writeError(w, http.StatusBadRequest, unknownRuntime(rt, runtimes).Error())
			return
		}
		runtimes = []string{rt}
	}
	recreate := false
	if v := q.Get("recreate"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "recreate must be true or false, not "+strconv.Quote(v))
			return
		}
		recreate = b
	}

	var digests map[string]string
	if h.Digests != nil {
		digests = h.Digests()
	}
	res := Result{Pulled: []string{}, Failed: []string{}, Recreated: []string{}, Errors: map[string]string{}}
	for _, rt := range runtimes {
		image, err := registry.RuntimeImage(h.Backend, rt)
		if err != nil {
			res.Failed = append(res.Failed, rt)
			res.Errors[rt] = err.Error()
			continue
		}
		if err := h.Refresher.Pull(r.Context(), image, digests[image]); err != nil {
			res.Failed = append(res.Failed, image)
			res.Errors[image] = err.Error()
			h.log().Warn("pull failed", "image", image, "error", err)
			continue
		}
		res.Pulled = append(res.Pulled, image)
		if recreate {
			names, err := h.Refresher.Recreate(r.Context(), image)
			res.Recreated = append(res.Recreated, names...)
			if err != nil {
				res.Errors[image] = err.Error()
			}
		}
	}
	status := http.StatusOK
	if len(res.Pulled) == 0 && len(res.Failed) > 0 {
		status = http.StatusBadGateway
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

func (h *Handler) runtimes() []string {
	if h.Runtimes != nil {
		return h.Runtimes
	}
	return registry.DefaultRuntimes()
}

// unknownRuntime is the error for a runtime outside the application's
// list known: a *registry.ConfigError that lists the known runtimes.
func unknownRuntime(runtime string, known []string) error {
	return &registry.ConfigError{
		Var: "runtime", Value: runtime,
		Reason: "unknown runtime",
		Fix:    "use one of " + strings.Join(known, ", "),
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
