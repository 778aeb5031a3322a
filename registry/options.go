package registry

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/authn"
)

// Options configures a backend. The zero value, and a nil *Options, are
// usable: every field has a default, named in its comment. The functions
// that take an *Options copy it and never change it; a driver reads it
// (through engine.Target) and never changes it either.
type Options struct {
	// Flavor forces a driver instead of detecting one from the host
	// (default: MOLECULE_IMAGE_REGISTRY_FLAVOR, then detection).
	Flavor Flavor
	// HTTPClient replaces the backend's HTTP client. Its transport is used as
	// is; redirect and scheme rules still apply. Without it the backend runs
	// on a transport of its own (engine.NewTransport), which on an HTTP/1.1
	// registry dials a tick's connections while the tick's token request is
	// in flight.
	HTTPClient *http.Client
	// ConfigureTransport, when set, adjusts the backend's own transport
	// before its first use: a CA pool for a private registry
	// (TLSClientConfig.RootCAs), a proxy, a dialer. It is unused when
	// HTTPClient is set.
	ConfigureTransport func(*http.Transport)
	// Logger receives debug logs of each request. Secrets are never logged.
	// nil discards everything.
	Logger *slog.Logger
	// Clock replaces the system clock (for tests).
	Clock Clock
	// Credentials replaces the driver's default credential chain.
	Credentials authn.Source
	// DockerConfig returns the source of Docker's (and Podman's) config,
	// found through the environment lookup reads, for the default
	// credential chain, after the environment variables; nil leaves it out.
	// Package backends sets it to dockerconfig.From (package
	// authn/dockerconfig); package registry itself reads no Docker config,
	// so that a program compiles docker/cli in only when it asks for it.
	DockerConfig func(lookup func(string) (string, bool)) authn.Source
	// NoDockerConfig leaves Docker's (and Podman's) config out of the
	// default credential chain, even when DockerConfig is set: credentials
	// come from the environment variables or nowhere. A Docker credential
	// helper built on registrykit needs it, since a config that names the
	// helper would make it run itself.
	NoDockerConfig bool
	// Env is the environment every variable is read from, Docker's config
	// location and the AWS configuration included. The zero Env is the
	// process environment; [EnvMap] makes a fixed one,
	// for tests and embedding.
	Env Env
	// InsecureHosts lists hosts ("host" or "host:port") the operator allows
	// to be reached over plain HTTP. Loopback hosts always are. Credentials
	// travel in clear text to them: use it only on a trusted network.
	InsecureHosts []string
	// UserAgent is appended to registrykit's own User-Agent.
	UserAgent string
	// MaxTries bounds the attempts of one idempotent request (default 3; 1
	// disables retries).
	MaxTries int
	// RequestTimeout bounds every operation whose context has no earlier
	// deadline of its own (default 30 s).
	RequestTimeout time.Duration
	// OnRequest, when set, learns of every request the backend sends:
	// registry requests by kind, token fetches, their status and duration
	// (see [Request]). It must not block for long; it may be called
	// concurrently.
	OnRequest func(Request)
}

// DefaultRequestTimeout bounds an operation whose context has no deadline.
const defaultRequestTimeout = 30 * time.Second

// Request describes one request a backend sent, for metrics.
type Request struct {
	// Kind is "ping" (GET /v2/), "manifest" (HEAD or GET of a manifest),
	// "token" (a token request, or a cloud API call that yields a
	// registry credential) or "other".
	Kind   string
	Method string
	Host   string
	// Status is the HTTP status, or 0 when no answer came (Err says why).
	Status   int
	Err      error
	Duration time.Duration
	// RateLimit and RateRemaining are the pull limit the registry reports
	// for its current window and what is left of it: Docker Hub's
	// ratelimit-limit and ratelimit-remaining on manifest answers, where a
	// GET counts as a pull and a HEAD does not. RateLimit is 0 when the
	// registry reports none.
	RateLimit, RateRemaining int
}

// Log returns the configured logger, or one that discards everything. (It
// is read when a backend is opened and on rare paths, never per request.)
func (o *Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Timeout returns RequestTimeout, or 30 s when unset.
func (o *Options) Timeout() time.Duration {
	if o.RequestTimeout > 0 {
		return o.RequestTimeout
	}
	return defaultRequestTimeout
}

// Now returns the configured clock, or the system clock.
func (o *Options) Now() Clock {
	if o.Clock != nil {
		return o.Clock
	}
	return systemClock{}
}

// LookupEnv looks a variable up in [Options.Env], trimming white space. It
// reports false when the variable is unset or blank.
func (o *Options) LookupEnv(key string) (string, bool) { return o.Env.Lookup(key) }

// ConfiguredHost returns the registry host the environment configures (the
// host of MOLECULE_IMAGE_REGISTRY, [DefaultPrefix]'s when unset), or "" when
// that variable does not parse. Credentials from environment variables are
// sent only to it.
func (o *Options) ConfiguredHost() string {
	p, err := o.Env.Prefix()
	if err != nil {
		return ""
	}
	return p.Host()
}

// Tries returns MaxTries, or 3 when unset.
func (o *Options) Tries() int {
	if o.MaxTries > 0 {
		return o.MaxTries
	}
	return 3
}

// AllowsInsecure reports whether host may be reached over plain HTTP because
// the operator listed it.
func (o *Options) AllowsInsecure(host string) bool {
	return slices.ContainsFunc(o.InsecureHosts, func(h string) bool { return strings.EqualFold(h, host) })
}
