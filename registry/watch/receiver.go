package watch

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxEventBody bounds the body of one event delivery.
const maxEventBody = 1 << 20

// ErrUnauthenticated reports an event delivery whose signature or secret is
// missing or wrong. Nothing is checked for it.
var ErrUnauthenticated = errors.New("event delivery not authenticated")

// Push is one push an event announces.
type Push struct {
	// Repository is the repository's full path on the registry
	// ("molecule-ai/workspace-template-codex"), without the host.
	Repository string
	// Tag is the tag pushed, or "" when the event does not say (a push by
	// digest): every watched tag of the repository is checked then.
	Tag string
}

// Source reads the deliveries of one sender: it authenticates a delivery the
// way its sender signs it and returns the pushes it announces. An
// unauthenticated delivery is an error matching [ErrUnauthenticated];
// deliveries that announce no push (pings, other event types) return none.
type Source interface {
	// Name names the sender ("github", "gitea", "distribution", "dockerhub").
	Name() string
	// Parse authenticates r, whose body has been read into body, and
	// returns the pushes it announces.
	Parse(r *http.Request, body []byte) ([]Push, error)
}

// Receiver is an http.Handler that turns a registry's push notifications
// into immediate checks of the images they name. An event is only a hint:
// the watcher confirms with its own request before it reports a change, and
// never trusts a digest or tag the payload carries beyond choosing which
// image to check.
//
// A delivery whose signature is missing or wrong is refused with 401 before
// any registry request; a body over 1 MiB is refused with 413; a
// delivery for images the watcher does not watch is answered 202 and costs
// nothing; checks of one image run at most once per second however
// many deliveries arrive, so repeated and flooding deliveries are harmless.
//
// A delivery is authenticated, parsed and answered at once: 202 with
// {"queued":[names]}, the watched images it names. Their checks, and the
// handler calls of the changes they confirm, run afterwards under the
// context given to [Watcher.Run] (one handler call at a time unless
// Options.HandlerConcurrency says otherwise), so neither the sender's timeout
// nor its hanging up cuts a refresh short. A delivery that arrives while
// the watcher is not running is answered alike, and its images are checked
// as soon as Run starts.
type Receiver struct {
	w      *Watcher
	source Source
}

// NewReceiver returns a Receiver of source's deliveries for w.
func NewReceiver(w *Watcher, source Source) *Receiver { return &Receiver{w: w, source: source} }

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	arrived := rc.w.clock.Now()
	name := rc.source.Name()
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "use POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBody+1))
	if err != nil {
		rc.w.delivered(name, false, "unreadable")
		http.Error(rw, "unreadable body", http.StatusBadRequest)
		return
	}
	if len(body) > maxEventBody {
		rc.w.delivered(name, false, "too large")
		http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	pushes, err := rc.source.Parse(r, body)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		rc.w.delivered(name, false, "signature")
		http.Error(rw, "signature missing or wrong", http.StatusUnauthorized)
		return
	case err != nil:
		rc.w.delivered(name, false, "malformed")
		http.Error(rw, "malformed delivery", http.StatusBadRequest)
		return
	}
	images := rc.w.Match(pushes)
	if len(images) == 0 {
		rc.w.delivered(name, true, "not watched")
	} else {
		rc.w.delivered(name, true, "")
	}
	rc.w.enqueue(images, arrived, true)
	res := struct {
		Queued []string `json:"queued"`
	}{Queued: make([]string, 0, len(images))}
	for _, img := range images {
		res.Queued = append(res.Queued, img.Name)
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(rw).Encode(res)
}

// Match returns the watched images that pushes name: same repository path
// (case-insensitive), and the same tag unless the push names none.
func (w *Watcher) Match(pushes []Push) []Image {
	base := strings.TrimPrefix(w.backend.Prefix(), w.backend.Host())
	base = strings.TrimPrefix(base, "/")
	var out []Image
	for _, img := range w.images {
		full := img.Repo
		if base != "" {
			full = base + "/" + img.Repo
		}
		for _, p := range pushes {
			if strings.EqualFold(strings.Trim(p.Repository, "/"), full) && (p.Tag == "" || p.Tag == img.Tag) {
				out = append(out, img)
				break
			}
		}
	}
	return out
}

func (w *Watcher) delivered(source string, accepted bool, reason string) {
	if w.observer != nil {
		w.observer.Delivered(source, accepted, reason)
	}
}

func (w *Watcher) confirmed(img Image, since time.Duration) {
	if w.observer != nil {
		w.observer.Confirmed(img, since)
	}
}
