package watch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxEventBody bounds the body of one event delivery.
const MaxEventBody = 1 << 20

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
// any registry request; a body over MaxEventBody is refused with 413; a
// delivery for images the watcher does not watch is answered 202 and costs
// nothing; checks of one image run at most once per MinEventInterval however
// many deliveries arrive, so repeated and flooding deliveries are harmless.
// The answer is 202 with {"checked":[names],"changed":[names]}.
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
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBody+1))
	if err != nil {
		rc.w.delivered(name, false, "unreadable")
		http.Error(rw, "unreadable body", http.StatusBadRequest)
		return
	}
	if len(body) > MaxEventBody {
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
	// The check runs within the delivery, so no goroutine outlives the
	// handler; it is bounded by the check timeout, and a sender that hangs
	// up does not cancel it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), rc.w.checkTimeout+MinEventInterval)
	defer cancel()
	res := struct {
		Checked []string `json:"checked"`
		Changed []string `json:"changed"`
	}{Checked: []string{}, Changed: []string{}}
	for _, img := range images {
		events, err := rc.w.CheckNow(ctx, img.Name)
		if err != nil {
			continue
		}
		res.Checked = append(res.Checked, img.Name)
		for _, ev := range events {
			if ev.Kind == Changed {
				res.Changed = append(res.Changed, img.Name)
				rc.w.confirmed(img, rc.w.clock.Now().Sub(arrived))
			}
		}
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
