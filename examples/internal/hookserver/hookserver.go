// Package hookserver builds the HTTP server that the example programs
// (imagewatch, registryctl watch --listen) receive push events with. Its
// read bounds cover the whole request, body included, so that a client that
// sends its headers and then trickles the body cannot hold a connection:
// the body is cut off when the bound passes, however slowly bytes keep
// coming.
package hookserver

import (
	"net/http"
	"time"
)

// Default bounds: the request's headers within DefaultHeaderTimeout, the
// whole request, body included, within DefaultReadTimeout of its start.
const (
	DefaultHeaderTimeout = 10 * time.Second
	DefaultReadTimeout   = 30 * time.Second
)

// Timeouts are a server's read bounds; a zero field takes its default.
type Timeouts struct {
	// Header bounds reading the request's headers.
	Header time.Duration
	// Read bounds reading the whole request, headers and body
	// (http.Server.ReadTimeout: a deadline, not an idle timeout).
	Read time.Duration
}

// New returns a server of h with the bounds of t.
func New(h http.Handler, t Timeouts) *http.Server {
	if t.Header <= 0 {
		t.Header = DefaultHeaderTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: min(t.Header, t.Read), ReadTimeout: t.Read}
}
