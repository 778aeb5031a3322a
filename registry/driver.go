package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Driver opens backends of one flavor. Drivers are values; package backends
// lists the built-in ones, and [Open] selects among any list, so a third
// party adds a flavor by passing its own Driver. Package registry/engine
// turns a small description of a flavor into a Driver.
type Driver interface {
	// Flavor names the flavor the driver serves.
	Flavor() Flavor
	// Claims reports whether the driver serves p by its host alone, without
	// asking the registry (ghcr.io, an ECR host, Docker Hub).
	Claims(p Prefix) bool
	// Open returns a Backend for t. It must do no I/O: discovery (a probe,
	// loading a cloud configuration) belongs to the backend's first request,
	// and is tried again on a later request when it fails. Open reports only
	// configuration errors.
	Open(t Target) (Backend, error)
}

// Target is what a driver receives to open a backend: the prefix, the
// caller's options (read-only) and, when selection probed the registry, the
// challenge its /v2/ answered.
type Target struct {
	Prefix  Prefix
	Options *Options
	// Challenge is the registry's /v2/ challenge when selection probed it,
	// so that the driver need not probe again; nil otherwise.
	Challenge *Challenge
}

// ChallengeClaimer is implemented by drivers that recognise their registry
// from the challenge its /v2/ endpoint answers (Gitea's
// service="container_registry").
type ChallengeClaimer interface {
	ClaimsChallenge(c *Challenge) bool
}

// FallbackDriver is implemented by a driver that serves any registry no other
// driver claims (the OCI distribution driver).
type FallbackDriver interface {
	Fallback() bool
}

// Prober is implemented by drivers that can probe a registry's /v2/
// endpoint; [Open] uses the first one in the list when only the challenge
// can tell which driver serves a host.
type Prober interface {
	Probe(ctx context.Context, p Prefix, o *Options) (*Challenge, error)
}

// TransportMaker is implemented by a [Prober] that builds its own HTTP
// transport when [Options.HTTPClient] is nil, as the drivers of package
// engine do. When a backend must probe before it selects its driver, [Open]
// makes one transport with it for the probe and the selected backend to
// share, so that the backend's first request reuses the probe's connection
// instead of dialing again.
type TransportMaker interface {
	NewTransport() http.RoundTripper
}

// Challenge is what a registry's GET /v2/ answered.
type Challenge struct {
	// Scheme is the authentication scheme, "Bearer" or "Basic", or "" when
	// the registry needs no authentication.
	Scheme string
	// Params holds the challenge's parameters (realm, service, scope), with
	// lowercased keys.
	Params map[string]string
	// Insecure reports that the registry was reached over plain HTTP.
	Insecure bool
}

// IsBearer reports whether c is a Bearer challenge.
func (c *Challenge) IsBearer() bool { return c != nil && strings.EqualFold(c.Scheme, "bearer") }

// IsBasic reports whether c is a Basic challenge.
func (c *Challenge) IsBasic() bool { return c != nil && strings.EqualFold(c.Scheme, "basic") }

// Open selects a driver for p among drivers and opens a backend with it. It
// takes no context and does no I/O: it fails only on configuration errors,
// and the backend it returns is usable at once.
//
// Selection: a forced flavor ([WithFlavor]) picks the driver of that
// flavor; otherwise the first driver that [Driver.Claims] p by host. When
// neither decides, some driver is a [ChallengeClaimer] and some driver is a
// [Prober], the backend probes the registry's /v2/ on its first request,
// picks the first driver claiming the challenge (else the [FallbackDriver])
// and hands it the challenge in [Target] so that it need not probe again. A
// failed probe is tried again on the next request. Otherwise the
// [FallbackDriver] serves the host.
//
// A flavor with no driver is an error matching [ErrUnsupported] that names
// the flavor. A driver option ([WithDriverOption]) for another flavor than
// the one selected is an error matching [ErrInvalidConfig].
func Open(p Prefix, drivers []Driver, opts ...Option) (Backend, error) {
	o := NewOptions(opts...)
	if p.IsZero() {
		return nil, &ConfigError{Var: EnvRegistry, Reason: "empty prefix", Fix: prefixFix}
	}
	if o.Flavor != FlavorUnknown {
		for _, d := range drivers {
			if d.Flavor() == o.Flavor {
				return openWith(d, Target{Prefix: p, Options: o})
			}
		}
		return nil, unsupportedFlavor(o.Flavor, p, drivers)
	}
	for _, d := range drivers {
		if d.Claims(p) {
			return openWith(d, Target{Prefix: p, Options: o})
		}
	}
	if prober := firstProber(drivers); prober != nil && anyDriver[ChallengeClaimer](drivers) {
		if tm, ok := prober.(TransportMaker); ok && o.HTTPClient == nil {
			o.HTTPClient = &http.Client{Transport: tm.NewTransport()}
		}
		return &selecting{prefix: p, drivers: drivers, opts: o, prober: prober}, nil
	}
	d, err := fallback(p, drivers)
	if err != nil {
		return nil, err
	}
	return openWith(d, Target{Prefix: p, Options: o})
}

// openWith opens t with d once the caller's driver options fit d.
func openWith(d Driver, t Target) (Backend, error) {
	if err := t.Options.checkDriverOptions(d.Flavor(), t.Prefix); err != nil {
		return nil, err
	}
	return d.Open(t)
}

// selectByChallenge opens the backend of the first driver that claims c,
// else of the fallback driver.
func selectByChallenge(p Prefix, drivers []Driver, o *Options, c *Challenge) (Backend, error) {
	t := Target{Prefix: p, Options: o, Challenge: c}
	for _, d := range drivers {
		if cc, ok := d.(ChallengeClaimer); ok && cc.ClaimsChallenge(c) {
			return openWith(d, t)
		}
	}
	d, err := fallback(p, drivers)
	if err != nil {
		return nil, err
	}
	return openWith(d, t)
}

func firstProber(drivers []Driver) Prober {
	for _, d := range drivers {
		if pr, ok := d.(Prober); ok {
			return pr
		}
	}
	return nil
}

// fallback returns the driver serving hosts no other driver claims.
func fallback(p Prefix, drivers []Driver) (Driver, error) {
	for _, d := range drivers {
		if f, ok := d.(FallbackDriver); ok && f.Fallback() {
			return d, nil
		}
	}
	return nil, unsupportedFlavor(DetectFlavor(p.Host()), p, drivers)
}

func anyDriver[T any](drivers []Driver) bool {
	for _, d := range drivers {
		if _, ok := d.(T); ok {
			return true
		}
	}
	return false
}

func unsupportedFlavor(f Flavor, p Prefix, drivers []Driver) error {
	have := make([]string, 0, len(drivers))
	for _, d := range drivers {
		have = append(have, string(d.Flavor()))
	}
	hint := "no driver is registered"
	if len(have) > 0 {
		hint = "registered drivers: " + strings.Join(have, ", ")
	}
	return &Error{
		Kind:  ErrUnsupported,
		Op:    "open",
		Image: p.String(),
		Err:   fmt.Errorf("no driver for registry flavor %q", f.String()),
		Hint:  hint,
	}
}
