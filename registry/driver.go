package registry

import (
	"context"
	"fmt"
	"strings"
)

// Driver opens backends of one flavor. Drivers are values; package backends
// lists the built-in ones, and [Open] selects among any list, so a third
// party adds a flavor by passing its own Driver.
type Driver interface {
	// Flavor names the flavor the driver serves.
	Flavor() Flavor
	// Claims reports whether the driver serves p by its host alone, without
	// asking the registry (ghcr.io, an ECR host, Docker Hub).
	Claims(p Prefix) bool
	// Open returns a Backend for p. It should do no I/O unless the flavor
	// needs it to be usable; the first request can pay for discovery.
	Open(ctx context.Context, p Prefix, o *Options) (Backend, error)
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

// ProbeFunc pings a registry's /v2/ endpoint and returns its challenge.
type ProbeFunc func(ctx context.Context, p Prefix, o *Options) (*Challenge, error)

// Open selects a driver for p among drivers and opens a backend with it.
//
// Selection: a forced flavor ([WithFlavor]) picks the driver of that
// flavor; otherwise the first driver that [Driver.Claims] p by host; otherwise,
// when some driver is a [ChallengeClaimer] and a [ProbeFunc] is set, the
// registry is probed once and the first driver claiming the challenge wins;
// otherwise the [FallbackDriver]. The probe's challenge is handed to the chosen
// driver in [Options.Challenge] so it need not probe again.
//
// A flavor with no driver is an error matching [ErrUnsupported] that names
// the flavor.
func Open(ctx context.Context, p Prefix, drivers []Driver, opts ...Option) (Backend, error) {
	o := NewOptions(opts...)
	if p.IsZero() {
		return nil, &ConfigError{Var: EnvRegistry, Reason: "empty prefix", Fix: prefixFix}
	}
	if o.Flavor != FlavorUnknown {
		for _, d := range drivers {
			if d.Flavor() == o.Flavor {
				return d.Open(ctx, p, o)
			}
		}
		return nil, unsupportedFlavor(o.Flavor, p, drivers)
	}
	for _, d := range drivers {
		if d.Claims(p) {
			return d.Open(ctx, p, o)
		}
	}
	if o.Probe != nil && o.Challenge == nil && anyDriver[ChallengeClaimer](drivers) {
		c, err := o.Probe(ctx, p, o)
		if err != nil {
			return nil, err
		}
		o.Challenge = c
	}
	if o.Challenge != nil {
		for _, d := range drivers {
			if cc, ok := d.(ChallengeClaimer); ok && cc.ClaimsChallenge(o.Challenge) {
				return d.Open(ctx, p, o)
			}
		}
	}
	for _, d := range drivers {
		if f, ok := d.(FallbackDriver); ok && f.Fallback() {
			return d.Open(ctx, p, o)
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
