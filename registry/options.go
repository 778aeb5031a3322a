package registry

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/authn"
)

// Options is what a caller configures, with [Option] values. A driver reads
// it (through engine.Target) but never changes it. The zero value is usable:
// accessors supply defaults.
type Options struct {
	// Flavor forces a driver instead of detecting one from the host.
	Flavor Flavor
	// HTTPClient replaces the backend's HTTP client. Its transport is used as
	// is; redirect and scheme rules still apply.
	HTTPClient *http.Client
	// Logger receives debug logs of each request. Secrets are never logged.
	Logger *slog.Logger
	// Clock replaces the system clock (for tests).
	Clock Clock
	// Credentials replaces the driver's default credential chain.
	Credentials authn.Source
	// DockerConfig returns the source of Docker's (and Podman's) config,
	// found through the environment lookup reads, for the default
	// credential chain; nil leaves it out. Package backends sets it to
	// dockerconfig.From (package authn/dockerconfig); package registry
	// itself reads no Docker config, so that a program compiles docker/cli
	// in only when it asks for it.
	DockerConfig func(lookup func(string) (string, bool)) authn.Source
	// NoDockerConfig leaves Docker's (and Podman's) config out of the
	// default credential chain, even when DockerConfig is set.
	NoDockerConfig bool
	// Environ is the environment every variable is read from, Docker's
	// config location and the AWS configuration included. The zero Env has
	// no variables; package backends defaults to [ProcessEnv].
	Environ Env
	// InsecureHosts lists hosts ("host" or "host:port") the operator allows
	// to be reached over plain HTTP. Loopback hosts always are.
	InsecureHosts []string
	// UserAgent is appended to registrykit's own User-Agent.
	UserAgent string
	// MaxTries bounds the attempts of one idempotent request (default 3).
	MaxTries int
	// RequestTimeout bounds every operation that has no earlier deadline of
	// its own (default 30 s).
	RequestTimeout time.Duration
	// OnRequest, when set, learns of every request the backend sends (see
	// [Request]); it must not block for long.
	OnRequest func(Request)

	drivers map[driverKey]any
}

// DefaultRequestTimeout bounds an operation whose context has no deadline.
const defaultRequestTimeout = 30 * time.Second

// driverKey files a driver option under its flavor and key.
type driverKey struct {
	flavor Flavor
	key    any
}

// Option configures [Options].
type Option func(*Options)

// NewOptions applies opts to a fresh Options.
func NewOptions(opts ...Option) *Options {
	o := &Options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithFlavor forces the driver for flavor f.
func WithFlavor(f Flavor) Option { return func(o *Options) { o.Flavor = f } }

// WithHTTPClient replaces the backend's HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(o *Options) { o.HTTPClient = c } }

// WithLogger sets the logger for debug logs (secrets redacted).
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithClock replaces the system clock.
func WithClock(c Clock) Option { return func(o *Options) { o.Clock = c } }

// WithCredentials replaces the driver's default credential chain.
func WithCredentials(s authn.Source) Option { return func(o *Options) { o.Credentials = s } }

// WithEnv sets the environment every variable is read from (see [Env]).
func WithEnv(env Env) Option { return func(o *Options) { o.Environ = env } }

// WithoutDockerConfig leaves Docker's and Podman's config out of the
// default credential chain: credentials come from the environment
// variables or nowhere. A Docker credential helper built on registrykit
// needs it, since a config that names the helper would make it run itself.
func WithoutDockerConfig() Option { return func(o *Options) { o.NoDockerConfig = true } }

// WithDockerConfig puts the source load returns, for the backend's
// environment, in the default credential chain, after the environment
// variables: pass dockerconfig.From (package authn/dockerconfig) to read
// Docker's and Podman's config as package backends does. engine.Open
// (package registry/engine) with a driver list of the caller's own reads no
// Docker config without it.
// [WithoutDockerConfig] wins over it.
func WithDockerConfig(load func(lookup func(string) (string, bool)) authn.Source) Option {
	return func(o *Options) { o.DockerConfig = load }
}

// WithEnvMap makes the environment exactly env, for tests and embedding:
// nothing of the process environment is read, not even HOME for Docker's
// config or the AWS shared files ([EnvMap]).
func WithEnvMap(env map[string]string) Option { return WithEnv(EnvMap(env)) }

// WithInsecureHosts allows plain HTTP to the named hosts ("host" or
// "host:port"), in addition to loopback. Credentials travel in clear text to
// them: use it only on a trusted network.
func WithInsecureHosts(hosts ...string) Option {
	return func(o *Options) { o.InsecureHosts = append(o.InsecureHosts, hosts...) }
}

// WithUserAgent appends ua to registrykit's User-Agent.
func WithUserAgent(ua string) Option { return func(o *Options) { o.UserAgent = ua } }

// WithMaxTries bounds the attempts of one idempotent request; 1 disables
// retries.
func WithMaxTries(n int) Option { return func(o *Options) { o.MaxTries = n } }

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

// WithRequestObserver sets a function told of every request a backend sends:
// registry requests by kind, token fetches, their status and duration. It
// must not block for long; it may be called concurrently.
func WithRequestObserver(f func(Request)) Option { return func(o *Options) { o.OnRequest = f } }

// WithRequestTimeout bounds every operation whose context has no earlier
// deadline (default 30 s).
func WithRequestTimeout(d time.Duration) Option { return func(o *Options) { o.RequestTimeout = d } }

// WithDriverOption attaches a value for the driver of flavor f under key, a
// private type of the driver's package (as with context.WithValue). Drivers
// wrap it in typed options such as ecr.WithRegion. Opening a backend of
// another flavor with it is a configuration error that names both flavors.
func WithDriverOption(f Flavor, key, value any) Option {
	return func(o *Options) {
		if o.drivers == nil {
			o.drivers = map[driverKey]any{}
		}
		o.drivers[driverKey{f, key}] = value
	}
}

// DriverOption returns the value set for the driver of flavor f under key,
// or nil.
func (o *Options) DriverOption(f Flavor, key any) any { return o.drivers[driverKey{f, key}] }

// checkDriverOptions reports a driver option meant for another flavor than
// the one selected.
func (o *Options) CheckDriverOptions(selected Flavor, p Prefix) error {
	for k := range o.drivers {
		if k.flavor != selected {
			return &ConfigError{Var: "driver option", Value: string(k.flavor) + " option",
				Reason: fmt.Sprintf("is an option of the %s driver, but the registry %s uses the %s driver", k.flavor, p.Host(), selected.String()),
				Fix:    "drop the option, or force the " + string(k.flavor) + " flavor"}
		}
	}
	return nil
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

// Env looks a variable up in [Options.Environ], trimming white space. It
// reports false when the variable is unset or blank.
func (o *Options) Env(key string) (string, bool) { return o.Environ.Lookup(key) }

// ConfiguredHost returns the registry host the environment configures (the
// host of MOLECULE_IMAGE_REGISTRY, [DefaultPrefix]'s when unset), or "" when
// that variable does not parse. Credentials from environment variables are
// sent only to it.
func (o *Options) ConfiguredHost() string {
	p, err := PrefixFromEnv(o.Environ)
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
