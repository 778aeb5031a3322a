package registry

import (
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/molecule-ai/registrykit/authn"
)

// Options is the configuration every driver receives. Callers set it with
// [Option] values; drivers read it. The zero value is usable: accessors
// supply defaults.
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
	// Challenge is the authentication challenge the registry answered to a
	// probe of /v2/, when selection already probed it; drivers use it to
	// avoid a second probe.
	Challenge *Challenge
	// Probe pings a registry's /v2/ endpoint. [Open] uses it when no driver
	// claims a host by name; package backends provides it.
	Probe ProbeFunc

	values map[any]any
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

// WithGetenv reads variables through f, as a custom environment ([EnvFunc]).
func WithGetenv(f func(string) (string, bool)) Option { return WithEnv(EnvFunc(f)) }

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

// WithProbe sets the function [Open] uses to probe a registry's /v2/.
func WithProbe(p ProbeFunc) Option { return func(o *Options) { o.Probe = p } }

// WithValue attaches a driver-specific value under key, which should be a
// private type of the driver's package (as with context.WithValue).
func WithValue(key, value any) Option {
	return func(o *Options) {
		if o.values == nil {
			o.values = map[any]any{}
		}
		o.values[key] = value
	}
}

// Value returns the driver-specific value stored under key, or nil.
func (o *Options) Value(key any) any { return o.values[key] }

// Log returns the configured logger, or one that discards everything.
func (o *Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Now returns the configured clock, or [SystemClock].
func (o *Options) Now() Clock {
	if o.Clock != nil {
		return o.Clock
	}
	return SystemClock{}
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
