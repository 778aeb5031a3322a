package watch

import (
	"encoding/json"
	"time"
)

// Kind says what an [Event] reports.
type Kind string

// The kinds of event.
const (
	// Seed is the first digest seen for an image.
	Seed Kind = "seed"
	// Changed is a digest that moved; the handler was called and succeeded.
	Changed Kind = "changed"
	// Failed is a failed check, or a handler that failed (Old and New then
	// say which change will be retried). Its JSON name is "error".
	Failed Kind = "error"
)

// Event is one observation of one image.
type Event struct {
	Time  time.Time
	Image Image
	Kind  Kind
	// Old and New are the digests before and after a change; New alone for
	// a seed.
	Old, New string
	// Err is set for Failed events.
	Err error
}

// MarshalJSON writes {"time","image","event","old","new","error"}.
func (e Event) MarshalJSON() ([]byte, error) {
	out := struct {
		Time  time.Time `json:"time"`
		Image string    `json:"image"`
		Event Kind      `json:"event"`
		Old   string    `json:"old,omitempty"`
		New   string    `json:"new,omitempty"`
		Error string    `json:"error,omitempty"`
	}{Time: e.Time.UTC(), Image: e.Image.Name, Event: e.Kind, Old: e.Old, New: e.New}
	if e.Err != nil {
		out.Error = e.Err.Error()
	}
	return json.Marshal(out)
}
