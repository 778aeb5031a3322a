package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/molecule-ai/registrykit/internal/envvar"
	"github.com/molecule-ai/registrykit/registry"
)

// Open returns the backend of prefix p, served by the first of specs that
// claims it. It does no I/O.
//
// A nil o is the zero registry.Options; o is copied, never changed.
//
// Selection by host happens here: a flavor forced with Options.Flavor,
// else the first Spec whose ClaimsHost claims the host. When none does and
// some Spec claims registries by their challenge, the backend selects its
// flavor on its first request: one GET /v2/, whose challenge picks the Spec
// (ClaimsChallenge, else the Fallback) and is handed to it, so that nothing
// is probed twice. Otherwise the Fallback Spec serves the host.
func Open(p registry.Prefix, specs []Spec, o *registry.Options) (registry.Backend, error) {
	o = copyOptions(o)
	if p.IsZero() {
		return nil, &registry.ConfigError{Var: envvar.Registry, Reason: "empty prefix",
			Fix: "set " + envvar.Registry + " to host[:port][/path], e.g. " + registry.DefaultPrefix}
	}
	b := newBackend(p, o)
	if o.Flavor != registry.FlavorUnknown {
		for _, s := range specs {
			if s.Flavor == o.Flavor {
				return b, b.setup(s, Target{Prefix: p, Options: o})
			}
		}
		return nil, unsupportedFlavor(o.Flavor, p, specs)
	}
	for _, s := range specs {
		if s.ClaimsHost != nil && s.ClaimsHost(p.Host()) {
			return b, b.setup(s, Target{Prefix: p, Options: o})
		}
	}
	for _, s := range specs {
		if s.ClaimsChallenge != nil {
			b.specs = specs // selected by the first request's probe
			return b, nil
		}
	}
	s, err := fallback(p, specs, nil)
	if err != nil {
		return nil, err
	}
	return b, b.setup(s, Target{Prefix: p, Options: o})
}

// ready configures a backend opened without a flavor, once: one GET /v2/
// (shared by every caller that needs it), the Spec its challenge selects,
// and that Spec's Configure. A probe that fails, or a Configure that
// panics, leaves the backend to try again on the next call; a configuration
// error is final.
func (b *backend) ready(ctx context.Context) error {
	if b.configured.Load() {
		return nil
	}
	if err := b.finalErr.Load(); err != nil {
		return *err
	}
	_, err := b.selection.Do(ctx, struct{}{}, func(ctx context.Context) (struct{}, error) {
		if b.configured.Load() {
			return struct{}{}, nil
		}
		host := b.prefix.Host()
		c, err := ping(ctx, b.client, host, Scheme(host, b.opts), b.opts)
		if err != nil {
			return struct{}{}, err
		}
		s, err := fallback(b.prefix, b.specs, c)
		if err == nil {
			err = b.setup(s, Target{Prefix: b.prefix, Options: b.opts, Challenge: c})
		}
		var ce *registry.ConfigError
		if errors.As(err, &ce) || errors.Is(err, registry.ErrUnsupported) {
			b.finalErr.Store(&err) // no probe will make it right
		}
		return struct{}{}, err
	})
	return err
}

// fallback returns the Spec that claims challenge c (nil: none probed), else
// the Fallback Spec.
func fallback(p registry.Prefix, specs []Spec, c *registry.Challenge) (Spec, error) {
	for _, s := range specs {
		if c != nil && s.ClaimsChallenge != nil && s.ClaimsChallenge(c) {
			return s, nil
		}
	}
	for _, s := range specs {
		if s.Fallback {
			return s, nil
		}
	}
	return Spec{}, unsupportedFlavor(registry.DetectFlavor(p.Host()), p, specs)
}

func unsupportedFlavor(f registry.Flavor, p registry.Prefix, specs []Spec) error {
	have := make([]string, 0, len(specs))
	for _, s := range specs {
		have = append(have, string(s.Flavor))
	}
	hint := "no driver is registered"
	if len(have) > 0 {
		hint = "registered drivers: " + strings.Join(have, ", ")
	}
	return &registry.Error{Kind: registry.ErrUnsupported, Op: "open", Image: p.String(),
		Err: fmt.Errorf("no driver for registry flavor %q", f.String()), Hint: hint}
}

// copyOptions returns a copy of o (the zero Options for nil), so that a
// backend never sees its caller's later changes.
func copyOptions(o *registry.Options) *registry.Options {
	c := registry.Options{}
	if o != nil {
		c = *o
		c.InsecureHosts = slices.Clone(o.InsecureHosts)
	}
	return &c
}
