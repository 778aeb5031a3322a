package registry

import (
	"context"
	"errors"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"golang.org/x/oauth2"
)

// selecting is the backend [Open] returns when only the registry's /v2/
// challenge can tell which driver serves it. Host and Prefix answer at once;
// the first request probes the registry, selects the driver and opens its
// backend, and every later request goes straight to that backend. A failed
// probe is not remembered: the next request probes again, so a program can
// start while its registry is down.
type selecting struct {
	prefix  Prefix
	drivers []Driver
	opts    *Options
	prober  Prober

	mu       sync.Mutex
	backend  Backend
	err      error // a configuration error selection met: final
	inflight *probeFlight
}

// probeFlight is one probe in progress; the callers waiting on it share its
// outcome, so a registry that is down costs one probe, not one per caller.
type probeFlight struct {
	done chan struct{}
	err  error // set before done closes; nil when the waiters should look again
}

var (
	_ Backend            = (*selecting)(nil)
	_ PlatformResolver   = (*selecting)(nil)
	_ CredentialProvider = (*selecting)(nil)
	_ Flavored           = (*selecting)(nil)
	_ TokenPreparer      = (*selecting)(nil)
)

// Host implements [Backend].
func (s *selecting) Host() string { return s.prefix.Host() }

// Prefix implements [Backend].
func (s *selecting) Prefix() string { return s.prefix.String() }

// Flavor implements [Flavored]: the selected driver's flavor, or
// [FlavorUnknown] before the first successful probe.
func (s *selecting) Flavor() Flavor {
	s.mu.Lock()
	b := s.backend
	s.mu.Unlock()
	if f, ok := b.(Flavored); ok {
		return f.Flavor()
	}
	return FlavorUnknown
}

// Discover implements [Discoverer].
func (s *selecting) Discover(ctx context.Context) error {
	_, err := s.selected(ctx)
	return err
}

// Token implements [Backend].
func (s *selecting) Token(ctx context.Context, repo string) (*oauth2.Token, error) {
	b, err := s.selected(ctx)
	if err != nil {
		return nil, err
	}
	return b.Token(ctx, repo)
}

// ManifestDigest implements [Backend].
func (s *selecting) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	b, err := s.selected(ctx)
	if err != nil {
		return "", err
	}
	return b.ManifestDigest(ctx, repo, ref)
}

// PlatformDigest implements [PlatformResolver] when the selected backend does.
func (s *selecting) PlatformDigest(ctx context.Context, repo, ref string, p Platform) (string, error) {
	b, err := s.selected(ctx)
	if err != nil {
		return "", err
	}
	pr, ok := b.(PlatformResolver)
	if !ok {
		return "", &Error{Kind: ErrUnsupported, Op: "platform digest", Image: s.prefix.Image(repo, ref),
			Hint: "the selected driver cannot resolve platforms"}
	}
	return pr.PlatformDigest(ctx, repo, ref, p)
}

// PrepareTokens implements [TokenPreparer] when the selected backend does.
func (s *selecting) PrepareTokens(ctx context.Context, repos []string) error {
	b, err := s.selected(ctx)
	if err != nil {
		return err
	}
	if tp, ok := b.(TokenPreparer); ok {
		return tp.PrepareTokens(ctx, repos)
	}
	return nil
}

// Credential implements [CredentialProvider] when the selected backend does;
// otherwise access is anonymous.
func (s *selecting) Credential(ctx context.Context) (authn.Credential, error) {
	b, err := s.selected(ctx)
	if err != nil {
		return authn.Credential{}, err
	}
	if cp, ok := b.(CredentialProvider); ok {
		return cp.Credential(ctx)
	}
	return authn.Credential{}, nil
}

// selected returns the selected backend, probing once at a time. Callers
// waiting on another's probe share its failure, unless it failed because
// that caller's own context ended; they leave when their own context ends.
func (s *selecting) selected(ctx context.Context) (Backend, error) {
	for {
		s.mu.Lock()
		if s.backend != nil || s.err != nil {
			b, err := s.backend, s.err
			s.mu.Unlock()
			return b, err
		}
		if f := s.inflight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil {
					return nil, f.err
				}
				continue // selected, or the prober's context ended: look again
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		f := &probeFlight{done: make(chan struct{})}
		s.inflight = f
		s.mu.Unlock()

		b, err := s.probeAndOpen(ctx)

		s.mu.Lock()
		var ce *ConfigError
		switch {
		case err == nil:
			s.backend = b
		case errors.As(err, &ce):
			s.err = err // no probe will make it right
		case ctx.Err() == nil:
			f.err = err // the waiters' answer too; the next request probes again
		}
		s.inflight = nil
		close(f.done)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return b, nil
	}
}

func (s *selecting) probeAndOpen(ctx context.Context) (Backend, error) {
	c, err := s.prober.Probe(ctx, s.prefix, s.opts)
	if err != nil {
		return nil, err
	}
	return selectByChallenge(s.prefix, s.drivers, s.opts, c)
}

// ChallengeReporter is implemented by backends that can say what their
// registry's challenge is once known (after [Discover], or a first request),
// for diagnostics such as naming the product behind a distribution registry.
type ChallengeReporter interface {
	// Challenge returns the registry's challenge, or nil when not known.
	Challenge() *Challenge
}

// Challenge implements [ChallengeReporter].
func (s *selecting) Challenge() *Challenge {
	s.mu.Lock()
	b := s.backend
	s.mu.Unlock()
	if cr, ok := b.(ChallengeReporter); ok {
		return cr.Challenge()
	}
	return nil
}

// Discoverer is implemented by backends that defer discovery (probing the
// registry for its challenge, selecting a driver) to their first request.
// Discover does it now, for a program that wants to fail early or report the
// flavor; it is safe to call more than once and after a failure.
type Discoverer interface {
	Discover(ctx context.Context) error
}

// Discover makes b do its deferred discovery now, when it is a
// [Discoverer], and returns b's flavor ([FlavorUnknown] when b does not say).
func Discover(ctx context.Context, b Backend) (Flavor, error) {
	if d, ok := b.(Discoverer); ok {
		if err := d.Discover(ctx); err != nil {
			return FlavorUnknown, err
		}
	}
	if f, ok := b.(Flavored); ok {
		return f.Flavor(), nil
	}
	return FlavorUnknown, nil
}
