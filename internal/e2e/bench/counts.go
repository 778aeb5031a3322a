package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// Counts is what one approach costs in registry requests.
type Counts struct {
	Cold, Steady, NewRepo int64 // requests for the check
	// Expiry is the requests for the first check after the token's life
	// ended, and ExpiryFailed how many of them the registry refused; -1
	// when the approach could not check at all.
	Expiry, ExpiryFailed int64
}

// MeasureCounts runs the request-count scenarios for one approach: cold,
// steady and new repository against the CNCF registry in dir, and across a
// token expiry against an imitation registry whose clock the scenario
// moves (the CNCF registry honours tokens a minute past their expiry).
func MeasureCounts(ctx context.Context, a Approach, dir string) (Counts, error) {
	var c Counts
	fx, err := NewFixture(dir, 2)
	if err != nil {
		return c, err
	}
	defer fx.Close()
	fx.Reg.Reset()
	ch, err := a.New(fx.Target) // opening may probe: part of the cold cost
	if err != nil {
		return c, err
	}
	for i, step := range []struct {
		repo int
		into *int64
	}{{0, &c.Cold}, {0, &c.Steady}, {1, &c.NewRepo}} {
		if i > 0 {
			fx.Reg.Reset()
		}
		d, err := ch.Check(ctx, Repo(step.repo))
		if err != nil {
			return c, fmt.Errorf("%s: %w", a.Name, err)
		}
		if d != fx.Digests[step.repo] {
			return c, fmt.Errorf("%s: wrong digest %s", a.Name, d)
		}
		*step.into = fx.Requests()
	}
	c.Expiry, c.ExpiryFailed, err = measureExpiry(ctx, a)
	return c, err
}

func measureExpiry(ctx context.Context, a Approach) (int64, int64, error) {
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: a.Imitates, Users: map[string]string{User: Password}, Now: clock.Now, TokenLifetime: time.Minute})
	defer srv.Close()
	img, err := random.Image(512, 2)
	if err != nil {
		return 0, 0, err
	}
	if _, err := srv.Push("org/"+Repo(0), "latest", img); err != nil {
		return 0, 0, err
	}
	t := Target{Host: srv.Host(), Org: "org", User: User, Password: Password,
		Realm: srv.URL() + "/auth/token", Service: "registry", Options: &registry.Options{Clock: clock}}
	ch, err := a.New(t)
	if err != nil {
		return 0, 0, err
	}
	if _, err := ch.Check(ctx, Repo(0)); err != nil {
		return 0, 0, err
	}
	clock.Advance(time.Minute + time.Second)
	srv.ResetCounts()
	_, err = ch.Check(ctx, Repo(0))
	cnt := srv.Counts()
	if err != nil {
		return -1, cnt.Rejected, nil
	}
	return cnt.Total(), cnt.Rejected, nil
}
