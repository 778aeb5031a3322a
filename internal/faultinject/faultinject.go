// Package faultinject makes registrytest's imitation registries misbehave
// on purpose: an Injector is a registrytest.Config.Intercept that answers
// chosen requests with an error status, a body, a reset, a stall or a
// redirect, a given number of times.
package faultinject

import (
	"net/http"
	"strings"
	"sync"
)

// Fault answers a request in place of the registry. It returns false to let
// the request through after all (a fault that only observes).
type Fault func(w http.ResponseWriter, r *http.Request) bool

// Match selects the requests a fault applies to.
type Match func(r *http.Request) bool

// Matchers for the usual request kinds.
var (
	AnyRequest Match = func(*http.Request) bool { return true }
	Manifests  Match = func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }
	Heads      Match = func(r *http.Request) bool {
		return r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/")
	}
	// Tokens matches the token endpoint of every mode.
	Tokens Match = func(r *http.Request) bool { return isTokenPath(r.URL.Path) }
	Pings  Match = func(r *http.Request) bool { return isPing(r.URL.Path) }
)

// isTokenPath reports whether path is the token endpoint of some mode, as
// registrytest.Server routes them (TestMatchersSeeWhatTheServerCounts keeps
// the two in step).
func isTokenPath(path string) bool {
	switch path {
	case "/token", "/token/", "/v2/token", "/auth/token", "/jwt/auth", "/service/token", "/v2/auth":
		return true
	}
	return false
}

func isPing(path string) bool { return path == "/v2/" || path == "/v2" }

// Injector applies faults to matching requests, each a given number of
// times (or forever). Its Intercept method is a registrytest.Config.Intercept.
type Injector struct {
	mu       sync.Mutex
	rules    []*rule
	injected int
}

type rule struct {
	match     Match
	remaining int // < 0: forever
	fault     Fault
}

// Add applies fault to the next times requests matching match (times < 0:
// every one).
func (i *Injector) Add(match Match, times int, fault Fault) *Injector {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = append(i.rules, &rule{match: match, remaining: times, fault: fault})
	return i
}

// Clear removes every rule.
func (i *Injector) Clear() {
	i.mu.Lock()
	i.rules = nil
	i.mu.Unlock()
}

// Injected returns how many times a rule's fault ran (including faults that
// only observed and let the request through).
func (i *Injector) Injected() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.injected
}

// Intercept applies the first matching rule with uses left.
func (i *Injector) Intercept(w http.ResponseWriter, r *http.Request) bool {
	i.mu.Lock()
	var f Fault
	for _, ru := range i.rules {
		if ru.remaining != 0 && ru.match(r) {
			if ru.remaining > 0 {
				ru.remaining--
			}
			f = ru.fault
			i.injected++
			break
		}
	}
	i.mu.Unlock()
	return f != nil && f(w, r)
}

// Status answers with code and the given header name/value pairs.
func Status(code int, headerPairs ...string) Fault {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		for i := 0; i+1 < len(headerPairs); i += 2 {
			w.Header().Add(headerPairs[i], headerPairs[i+1])
		}
		w.WriteHeader(code)
		return true
	}
}

// Body answers 200 with body and the given header name/value pairs.
func Body(body []byte, headerPairs ...string) Fault {
	return func(w http.ResponseWriter, r *http.Request) bool {
		for i := 0; i+1 < len(headerPairs); i += 2 {
			w.Header().Add(headerPairs[i], headerPairs[i+1])
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return true
	}
}

// Reset closes the connection without answering (a reset or EOF to the
// client).
func Reset() Fault {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("testregistry: response writer cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	}
}

// Stall holds the request until the client gives up.
func Stall() Fault {
	return func(_ http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
}

// Redirect answers 307 to url.
func Redirect(url string) Fault {
	return func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, url, http.StatusTemporaryRedirect)
		return true
	}
}
