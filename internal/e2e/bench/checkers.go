package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	orasremote "oras.land/oras-go/v2/registry/remote"
	orasauth "oras.land/oras-go/v2/registry/remote/auth"
)

// Checker resolves the digest of <host>/<org>/<repo>:latest one way.
type Checker interface {
	Check(ctx context.Context, repo string) (string, error)
}

// Target is the registry the checkers talk to.
type Target struct {
	Host, Org      string
	User, Password string
	Realm, Service string // the token service, for the hand-written clients
	// Options, when set, is the base of the registrykit checkers' options;
	// each sets HTTPClient, Credentials, Env and Flavor itself.
	Options *registry.Options
	// Secure reaches the registry over HTTPS through HTTPTransport (the
	// network benchmark); otherwise over plain HTTP on loopback.
	Secure        bool
	HTTPTransport *http.Transport
}

// Transport returns the target's transport: HTTPTransport when set, else a
// fresh keep-alive transport, the same for every checker.
func (t Target) Transport() *http.Transport {
	if t.HTTPTransport != nil {
		return t.HTTPTransport
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// scheme is the registry's URL scheme.
func (t Target) scheme() string {
	if t.Secure {
		return "https"
	}
	return "http"
}

// tag names repo's latest tag for go-containerregistry.
func (t Target) tag(repo string) (name.Tag, error) {
	ref := fmt.Sprintf("%s/%s/%s:latest", t.Host, t.Org, repo)
	if t.Secure {
		return name.NewTag(ref)
	}
	return name.NewTag(ref, name.Insecure)
}

// Approach names one way of checking, in report order.
type Approach struct {
	Name string
	New  func(t Target) (Checker, error)
	// Imitates is the registry protocol the approach expects when the
	// expiry scenario runs it against the imitation registry.
	Imitates registrytest.Mode
}

// Approaches returns every approach measured.
func Approaches() []Approach {
	return []Approach{
		{"raw", newRaw, registrytest.Distribution},
		{"old-code", newOld, registrytest.Distribution},
		{"ggcr-remote.Head", newGGCRHead, registrytest.Distribution},
		{"ggcr-Puller", newGGCRPuller, registrytest.Distribution},
		{"oras-go", newOras, registrytest.Distribution},
		{"registrykit-distribution", registrykit(registry.FlavorUnknown), registrytest.Distribution},
		// Against the CNCF registry, which refuses a PAT sent as a bearer
		// token (ghcr.io takes it), the GHCR driver is measured on GHCR's
		// token service: known realm, no probe.
		{"registrykit-ghcr", registrykit(registry.FlavorGHCR, ghcr.Driver(&ghcr.Config{TokenService: true})), registrytest.GHCR},
		// Gitea takes Basic on /v2/ itself; the CNCF registry's token auth
		// does not, so the Gitea driver is measured on the token service.
		{"registrykit-gitea", registrykit(registry.FlavorGitea, gitea.Driver(&gitea.Config{TokenService: true})), registrytest.Gitea},
	}
}

const accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
	"application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

// tokenClient fetches bearer tokens by hand, as the code registrykit
// replaces did.
type tokenClient struct {
	t      Target
	client *http.Client
}

func (c *tokenClient) token(ctx context.Context, repo string) (string, error) {
	url := fmt.Sprintf("%s?service=%s&scope=repository:%s/%s:pull", c.t.Realm, c.t.Service, c.t.Org, repo)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.t.User, c.t.Password)
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	return body.Token, nil
}

func (c *tokenClient) head(ctx context.Context, repo, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, fmt.Sprintf("%s://%s/v2/%s/%s/manifests/latest", c.t.scheme(), c.t.Host, c.t.Org, repo), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HEAD: %s", resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// raw is the floor: net/http HEAD with a token fetched once per repository.
type raw struct {
	tokenClient
	mu     sync.Mutex
	tokens map[string]string
}

func newRaw(t Target) (Checker, error) {
	return &raw{tokenClient: tokenClient{t: t, client: &http.Client{Transport: t.Transport()}}, tokens: map[string]string{}}, nil
}

func (r *raw) Check(ctx context.Context, repo string) (string, error) {
	r.mu.Lock()
	tok, ok := r.tokens[repo]
	r.mu.Unlock()
	if !ok {
		var err error
		if tok, err = r.token(ctx, repo); err != nil {
			return "", err
		}
		r.mu.Lock()
		r.tokens[repo] = tok
		r.mu.Unlock()
	}
	return r.head(ctx, repo, tok)
}

// old fetches a token for every check, as the hard-coded GHCR code did.
type old struct{ tokenClient }

func newOld(t Target) (Checker, error) {
	return &old{tokenClient{t: t, client: &http.Client{Transport: t.Transport()}}}, nil
}

func (o *old) Check(ctx context.Context, repo string) (string, error) {
	tok, err := o.token(ctx, repo)
	if err != nil {
		return "", err
	}
	return o.head(ctx, repo, tok)
}

// ggcrHead is go-containerregistry's remote.Head with a keychain, as most
// callers use it: every call pings, exchanges a token and HEADs.
type ggcrHead struct {
	t  Target
	tr http.RoundTripper
	kc ggcrauthn.Keychain
}

type staticKeychain struct{ auth ggcrauthn.Authenticator }

func (k staticKeychain) Resolve(ggcrauthn.Resource) (ggcrauthn.Authenticator, error) {
	return k.auth, nil
}

func newGGCRHead(t Target) (Checker, error) {
	return &ggcrHead{t: t, tr: t.Transport(), kc: staticKeychain{&ggcrauthn.Basic{Username: t.User, Password: t.Password}}}, nil
}

func (g *ggcrHead) Check(ctx context.Context, repo string) (string, error) {
	ref, err := g.t.tag(repo)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(g.kc), remote.WithTransport(g.tr))
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// ggcrPuller reuses one remote.Puller, which caches a transport per
// repository.
type ggcrPuller struct {
	t Target
	p *remote.Puller
}

func newGGCRPuller(t Target) (Checker, error) {
	p, err := remote.NewPuller(remote.WithAuth(&ggcrauthn.Basic{Username: t.User, Password: t.Password}), remote.WithTransport(t.Transport()))
	if err != nil {
		return nil, err
	}
	return &ggcrPuller{t: t, p: p}, nil
}

func (g *ggcrPuller) Check(ctx context.Context, repo string) (string, error) {
	ref, err := g.t.tag(repo)
	if err != nil {
		return "", err
	}
	desc, err := g.p.Head(ctx, ref)
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// oras uses oras-go v2's Repository.Resolve with one auth.Client and its
// token cache.
type oras struct {
	t      Target
	client *orasauth.Client
	mu     sync.Mutex
	repos  map[string]*orasremote.Repository
}

func newOras(t Target) (Checker, error) {
	return &oras{t: t, repos: map[string]*orasremote.Repository{}, client: &orasauth.Client{
		Client:     &http.Client{Transport: t.Transport()},
		Cache:      orasauth.NewCache(),
		Credential: orasauth.StaticCredential(t.Host, orasauth.Credential{Username: t.User, Password: t.Password}),
	}}, nil
}

func (o *oras) Check(ctx context.Context, repo string) (string, error) {
	o.mu.Lock()
	r, ok := o.repos[repo]
	if !ok {
		var err error
		r, err = orasremote.NewRepository(fmt.Sprintf("%s/%s/%s", o.t.Host, o.t.Org, repo))
		if err != nil {
			o.mu.Unlock()
			return "", err
		}
		r.PlainHTTP = !o.t.Secure
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

// registrykit opens a backend of the given flavor (FlavorUnknown: probed),
// with drivers in place of the built-in ones of their flavors.
func registrykit(f registry.Flavor, drivers ...engine.Spec) func(t Target) (Checker, error) {
	return func(t Target) (Checker, error) {
		var o registry.Options
		if t.Options != nil {
			o = *t.Options
		}
		o.HTTPClient = &http.Client{Transport: t.Transport()}
		o.Credentials = authn.Static(authn.Credential{Username: t.User, Password: t.Password})
		o.Env = registry.EnvMap(nil)
		o.Flavor = f
		b, err := backends.Open(t.Host+"/"+t.Org, &o, drivers...)
		if err != nil {
			return nil, err
		}
		return backendChecker{b}, nil
	}
}

type backendChecker struct{ b registry.Backend }

func (c backendChecker) Check(ctx context.Context, repo string) (string, error) {
	return c.b.ManifestDigest(ctx, repo, "latest")
}
