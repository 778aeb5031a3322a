package engine

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pullLimit is a registry's report of its pull rate limit: Docker Hub sends
// "ratelimit-limit: 100;w=21600" and "ratelimit-remaining: 76;w=21600" on
// manifest answers, the window in seconds (docs.docker.com/docker-hub/usage/pulls,
// "View pull rate and limit").
type pullLimit struct {
	limit, remaining int
	window           time.Duration
}

// parsePullLimit reads the rate-limit headers of h; ok is false when the
// registry reports none or reports them malformed.
func parsePullLimit(h http.Header) (pullLimit, bool) {
	limit, window, ok := rateValue(h.Get("ratelimit-limit"))
	if !ok || limit <= 0 {
		return pullLimit{}, false
	}
	remaining, _, ok := rateValue(h.Get("ratelimit-remaining"))
	if !ok {
		return pullLimit{}, false
	}
	return pullLimit{limit: limit, remaining: remaining, window: window}, true
}

// rateValue parses "N" or "N;w=SECONDS".
func rateValue(v string) (n int, window time.Duration, ok bool) {
	num, params, _ := strings.Cut(strings.TrimSpace(v), ";")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	if w, found := strings.CutPrefix(strings.TrimSpace(params), "w="); found {
		if secs, err := strconv.Atoi(w); err == nil && secs > 0 {
			window = time.Duration(secs) * time.Second
		}
	}
	return n, window, true
}

// hint says what is left of the limit, for a 429's error.
func (p pullLimit) hint() string {
	s := strconv.Itoa(p.remaining) + " of " + strconv.Itoa(p.limit) + " pulls left"
	if p.window > 0 {
		s += " in the registry's " + p.window.String() + " window"
	}
	return s + " (a manifest GET counts as a pull, a HEAD does not)"
}
