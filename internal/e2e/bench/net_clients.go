package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/watch"
	orasremote "oras.land/oras-go/v2/registry/remote"
	orasauth "oras.land/oras-go/v2/registry/remote/auth"
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
	ghcrOnly := []NetFlavor{NetGHCR}
	giteaOnly := []NetFlavor{NetGitea}
	return []NetClient{
		{Name: "registrykit watcher, PAT as bearer", For: ghcrOnly, new: netKit(true)},
		{Name: "registrykit watcher, token service", For: ghcrOnly, new: netKit(true, ghcr.WithTokenService())},
		{Name: "registrykit watcher", For: giteaOnly, new: netKit(true)},
		{Name: "registrykit 9 goroutines, PAT as bearer", For: ghcrOnly, new: netKit(false)},
		{Name: "registrykit 9 goroutines, token service", For: ghcrOnly, new: netKit(false, ghcr.WithTokenService())},
		{Name: "registrykit 9 goroutines", For: giteaOnly, new: netKit(false)},
		{Name: "ggcr Puller, 9 goroutines", new: netChecker(newNetGGCRPuller, true)},
		{Name: "oras-go, 9 goroutines", new: netChecker(newNetOras, true)},
		{Name: "old code, 9 goroutines", new: netChecker(newNetOld, true)},
		{Name: "old code, one after another", new: netChecker(newNetOld, false)},
	}
}

// netKitClient is a registrykit backend over the rig, ticking through a
// watch.Watcher or through one goroutine per image.
type netKitClient struct {
	r   *NetRegistry
	tr  *engine.Transport // registrykit's: one connection per HTTP/2 host
	b   registry.Backend
	w   *watch.Watcher // nil: goroutines
	img []watch.Image
}

func netKit(watcher bool, extra ...registry.Option) func(r *NetRegistry) (netClient, error) {
	return func(r *NetRegistry) (netClient, error) {
		flavor := registry.FlavorGHCR
		if r.Variant.Flavor == NetGitea {
			flavor = registry.FlavorGitea
		}
		tr := engine.NewTransportFrom(r.Transport())
		b, err := backends.Open(r.Prefix(), append([]registry.Option{
			registry.WithFlavor(flavor),
			registry.WithHTTPClient(&http.Client{Transport: tr}),
			registry.WithEnvMap(map[string]string{}),
			registry.WithCredentials(authn.Static(authn.Credential{Username: User, Password: Password})),
			registry.WithClock(r.Clock),
		}, extra...)...)
		if err != nil {
			return nil, err
		}
		c := &netKitClient{r: r, tr: tr, b: b}
		for _, repo := range r.Repos {
			c.img = append(c.img, watch.Image{Name: r.Prefix() + "/" + repo + ":" + registry.RuntimeTag, Repo: repo, Tag: registry.RuntimeTag})
		}
		if watcher {
			if c.w, err = watch.New(b, watch.WithImages(c.img...), watch.WithClock(r.Clock)); err != nil {
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

func netChecker(newChecker func(t Target, tr *http.Transport) (Checker, error), par bool) func(r *NetRegistry) (netClient, error) {
	return func(r *NetRegistry) (netClient, error) {
		tr := r.Transport()
		t := Target{Host: r.Host, Org: netOrg, User: User, Password: Password, Realm: r.Realm(), Service: r.Service()}
		ch, err := newChecker(t, tr)
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

// The peers of checkers.go, over HTTPS with a given transport (those speak
// plain HTTP to a loopback registry and make their own transports).

// netOld fetches a token before every HEAD, as the hard-coded GHCR code did.
type netOld struct{ tokenClient }

func newNetOld(t Target, tr *http.Transport) (Checker, error) {
	return &netOld{tokenClient{t: t, client: &http.Client{Transport: tr}}}, nil
}

func (o *netOld) Check(ctx context.Context, repo string) (string, error) {
	tok, err := o.token(ctx, repo)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, fmt.Sprintf("https://%s/v2/%s/%s/manifests/latest", o.t.Host, o.t.Org, repo), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := o.client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HEAD: %s", resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

func newNetGGCRPuller(t Target, tr *http.Transport) (Checker, error) {
	p, err := remote.NewPuller(remote.WithAuth(&ggcrauthn.Basic{Username: t.User, Password: t.Password}), remote.WithTransport(tr))
	if err != nil {
		return nil, err
	}
	return &netGGCRPuller{t: t, p: p}, nil
}

type netGGCRPuller struct {
	t Target
	p *remote.Puller
}

func (g *netGGCRPuller) Check(ctx context.Context, repo string) (string, error) {
	ref, err := name.NewTag(fmt.Sprintf("%s/%s/%s:latest", g.t.Host, g.t.Org, repo))
	if err != nil {
		return "", err
	}
	desc, err := g.p.Head(ctx, ref)
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// netOras is oras-go v2's Repository.Resolve with one auth.Client and its
// token cache, as oras in checkers.go, over HTTPS.
type netOras struct {
	t      Target
	client *orasauth.Client
	mu     sync.Mutex
	repos  map[string]*orasremote.Repository
}

func newNetOras(t Target, tr *http.Transport) (Checker, error) {
	return &netOras{t: t, repos: map[string]*orasremote.Repository{}, client: &orasauth.Client{
		Client:     &http.Client{Transport: tr},
		Cache:      orasauth.NewCache(),
		Credential: orasauth.StaticCredential(t.Host, orasauth.Credential{Username: t.User, Password: t.Password}),
	}}, nil
}

func (o *netOras) Check(ctx context.Context, repo string) (string, error) {
	o.mu.Lock()
	r, ok := o.repos[repo]
	if !ok {
		var err error
		r, err = orasremote.NewRepository(fmt.Sprintf("%s/%s/%s", o.t.Host, o.t.Org, repo))
		if err != nil {
			o.mu.Unlock()
			return "", err
		}
		r.Client = o.client
		o.repos[repo] = r
	}
	o.mu.Unlock()
	desc, err := r.Resolve(ctx, "latest")
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}
