package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// netClient is one way of watching the nine images over the network.
type netClient interface {
	// One checks one repository.
	One(ctx context.Context, repo string) (string, error)
	// Tick checks every repository once, as a watcher's tick does.
	Tick(ctx context.Context) error
	// CloseIdle closes the transport's idle connections, as five idle
	// minutes do.
	CloseIdle()
}

// NetClient names one client of the network benchmark.
type NetClient struct {
	Name string
	// For names the flavors it runs against (none: every one).
	For []NetFlavor
	new func(r *NetRegistry) (netClient, error)
}

func (c NetClient) runsOn(f NetFlavor) bool {
	if len(c.For) == 0 {
		return true
	}
	for _, x := range c.For {
		if x == f {
			return true
		}
	}
	return false
}

// NetClients returns every client measured, in report order.
func NetClients() []NetClient {
	ghcrOnly := []NetFlavor{NetGHCR, NetGHCRAll}
	giteaOnly := []NetFlavor{NetGitea}
	return []NetClient{
		{Name: "registrykit watcher, PAT as bearer", For: ghcrOnly, new: netKit(true)},
		{Name: "registrykit watcher, token service", For: ghcrOnly, new: netKit(true, ghcr.Driver(&ghcr.Config{TokenService: true}))},
		{Name: "registrykit watcher", For: giteaOnly, new: netKit(true)},
		{Name: "registrykit 9 goroutines, PAT as bearer", For: ghcrOnly, new: netKit(false)},
		{Name: "registrykit 9 goroutines, token service", For: ghcrOnly, new: netKit(false, ghcr.Driver(&ghcr.Config{TokenService: true}))},
		{Name: "registrykit 9 goroutines", For: giteaOnly, new: netKit(false)},
		{Name: "ggcr Puller, 9 goroutines", new: netChecker(newGGCRPuller, true)},
		{Name: "oras-go, 9 goroutines", new: netChecker(newOras, true)},
		{Name: "old code, 9 goroutines", new: netChecker(newOld, true)},
		{Name: "old code, one after another", new: netChecker(newOld, false)},
	}
}

// netKitClient is a registrykit backend over the rig, ticking through a
// watch.Watcher or through one goroutine per image.
type netKitClient struct {
	r   *NetRegistry
	tr  *http.Transport // registrykit's tuned transport, over the rig
	b   registry.Backend
	w   *watch.Watcher // nil: goroutines
	img []watch.Image
}

func netKit(watcher bool, drivers ...engine.Spec) func(r *NetRegistry) (netClient, error) {
	return func(r *NetRegistry) (netClient, error) {
		flavor := registry.FlavorGHCR
		if r.Variant.Flavor == NetGitea {
			flavor = registry.FlavorGitea
		}
		// The backend's own transport (engine.NewTransport, which dials
		// ahead on HTTP/1.1), over the rig's dialer and CA.
		var tr *http.Transport
		rig := r.Transport()
		b, err := backends.Open(r.Prefix(), &registry.Options{
			Flavor: flavor,
			ConfigureTransport: func(t *http.Transport) {
				tr = t
				t.Proxy, t.DialContext = nil, rig.DialContext
				t.TLSClientConfig.RootCAs, t.TLSClientConfig.MinVersion = rig.TLSClientConfig.RootCAs, rig.TLSClientConfig.MinVersion
			},
			Env:         registry.EnvMap(map[string]string{}),
			Credentials: authn.Static(authn.Credential{Username: User, Password: Password}),
			Clock:       r.Clock,
		}, drivers...)
		if err != nil {
			return nil, err
		}
		c := &netKitClient{r: r, tr: tr, b: b}
		for _, repo := range r.Repos {
			c.img = append(c.img, watch.Image{Name: r.Prefix() + "/" + repo + ":" + registry.RuntimeTag, Repo: repo, Tag: registry.RuntimeTag})
		}
		if watcher {
			if c.w, err = watch.New(b, &watch.Options{Images: c.img, Clock: r.Clock}); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
}

func (c *netKitClient) One(ctx context.Context, repo string) (string, error) {
	return c.b.ManifestDigest(ctx, repo, registry.RuntimeTag)
}

func (c *netKitClient) Tick(ctx context.Context) error {
	if c.w != nil {
		for _, ev := range c.w.Check(ctx) {
			if ev.Kind == watch.Failed {
				return fmt.Errorf("%s: %w", ev.Image.Repo, ev.Err)
			}
			if ev.New != "" && ev.New != c.r.Digests[ev.Image.Repo] {
				return fmt.Errorf("%s: %w %s", ev.Image.Repo, errNoDigest, ev.New)
			}
		}
		return nil
	}
	return parallel(ctx, c.r, c.One)
}

func (c *netKitClient) CloseIdle() { c.tr.CloseIdleConnections() }

// parallel checks every repository of r at once with check.
func parallel(ctx context.Context, r *NetRegistry, check func(context.Context, string) (string, error)) error {
	errs := make([]error, len(r.Repos))
	var wg sync.WaitGroup
	for i, repo := range r.Repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = checkDigest(ctx, r, repo, check)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkDigest(ctx context.Context, r *NetRegistry, repo string, check func(context.Context, string) (string, error)) error {
	d, err := check(ctx, repo)
	if err != nil {
		return fmt.Errorf("%s: %w", repo, err)
	}
	if d != r.Digests[repo] {
		return fmt.Errorf("%s: %w %s", repo, errNoDigest, d)
	}
	return nil
}

// netCheckerClient runs a Checker over the rig, its tick at once or one
// image after another.
type netCheckerClient struct {
	r   *NetRegistry
	tr  *http.Transport
	ch  Checker
	par bool
}

func netChecker(newChecker func(t Target) (Checker, error), par bool) func(r *NetRegistry) (netClient, error) {
	return func(r *NetRegistry) (netClient, error) {
		tr := r.Transport()
		t := Target{Host: r.Host, Org: netOrg, User: User, Password: Password, Realm: r.Realm(), Service: r.Service(),
			Secure: true, HTTPTransport: tr}
		ch, err := newChecker(t)
		if err != nil {
			return nil, err
		}
		return &netCheckerClient{r: r, tr: tr, ch: ch, par: par}, nil
	}
}

func (c *netCheckerClient) One(ctx context.Context, repo string) (string, error) {
	return c.ch.Check(ctx, repo)
}

func (c *netCheckerClient) Tick(ctx context.Context) error {
	if c.par {
		return parallel(ctx, c.r, c.ch.Check)
	}
	for _, repo := range c.r.Repos {
		if err := checkDigest(ctx, c.r, repo, c.ch.Check); err != nil {
			return err
		}
	}
	return nil
}

func (c *netCheckerClient) CloseIdle() { c.tr.CloseIdleConnections() }
