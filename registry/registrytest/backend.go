package registrytest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// Backend is a fake registry.Backend for the code that consumes one (an
// image watcher, a pull handler): a test sets the digest each reference
// points at, or the error it fails with, and counts the calls. It does no
// I/O. Every platform sees the reference's digest unless
// [Backend.SetPlatformDigest] says otherwise. It is safe for concurrent
// use.
type Backend struct {
	prefix registry.Prefix
	flavor registry.Flavor

	mu        sync.Mutex
	digests   map[string]string // "repo:ref" -> digest
	platforms map[string]string // "repo:ref platform" -> digest
	errs      map[string]error
	cred      authn.Credential
	calls     int
}

var _ registry.Backend = (*Backend)(nil)

// NewBackend returns a fake backend for prefix ("host[:port][/path]", empty
// for the default). It panics on an invalid prefix, as a test fixture
// should.
func NewBackend(prefix string) *Backend {
	return &Backend{
		prefix:    registry.MustParsePrefix(prefix),
		flavor:    registry.FlavorDistribution,
		digests:   map[string]string{},
		platforms: map[string]string{},
		errs:      map[string]error{},
	}
}

// Digest returns a well-formed digest ("sha256:<64 hex>") derived from s,
// for tests that need distinct digests without images.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SetDigest makes ref ("latest", or a digest) in repo point at digest, and
// clears an error set for it.
func (b *Backend) SetDigest(repo, ref, digest string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.digests[repo+":"+ref] = digest
	delete(b.errs, repo+":"+ref)
}

// SetPlatformDigest makes platform's manifest of ref in repo be digest.
func (b *Backend) SetPlatformDigest(repo, ref string, p registry.Platform, digest string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.platforms[repo+":"+ref+" "+p.String()] = digest
}

// SetError makes every request for ref in repo fail with err until
// SetDigest is called for it.
func (b *Backend) SetError(repo, ref string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs[repo+":"+ref] = err
}

// SetCredential sets what [Backend.Credential] returns (anonymous by
// default).
func (b *Backend) SetCredential(c authn.Credential) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cred = c
}

// SetFlavor sets what [Backend.Flavor] returns (distribution by default).
func (b *Backend) SetFlavor(f registry.Flavor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flavor = f
}

// Calls returns how many digest lookups (ManifestDigest and PlatformDigest)
// the backend answered.
func (b *Backend) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// Host implements registry.Backend.
func (b *Backend) Host() string { return b.prefix.Host() }

// Prefix implements registry.Backend.
func (b *Backend) Prefix() string { return b.prefix.String() }

// Flavor implements registry.Backend.
func (b *Backend) Flavor() registry.Flavor {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flavor
}

// Token implements registry.Backend: a Basic token of the credential's
// username and password (as ECR and htpasswd registries take), or an empty
// token for anonymous access.
func (b *Backend) Token(ctx context.Context, _ string) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, _ := b.Credential(ctx)
	if c.IsAnonymous() {
		return &oauth2.Token{}, nil
	}
	return &oauth2.Token{
		AccessToken: base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)),
		TokenType:   "Basic",
	}, nil
}

// ManifestDigest implements registry.Backend. A reference that was never set
// fails with an error matching registry.ErrNotFound.
func (b *Backend) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	return b.lookup(repo, ref)
}

// PlatformDigest implements registry.Backend.
func (b *Backend) PlatformDigest(ctx context.Context, repo, ref string, p registry.Platform) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if err := b.errs[repo+":"+ref]; err != nil {
		return "", err // SetError fails every request, overrides included
	}
	if d, ok := b.platforms[repo+":"+ref+" "+p.String()]; ok {
		return d, nil
	}
	return b.lookup(repo, ref)
}

func (b *Backend) lookup(repo, ref string) (string, error) {
	key := repo + ":" + ref
	if err := b.errs[key]; err != nil {
		return "", err
	}
	if d, ok := b.digests[key]; ok {
		return d, nil
	}
	return "", &registry.Error{Kind: registry.ErrNotFound, Op: "manifest digest", Image: b.prefix.Image(repo, ref)}
}

// Credential implements registry.Backend.
func (b *Backend) Credential(context.Context) (authn.Credential, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cred, nil
}

// Discover implements registry.Backend: a fake has no challenge to learn.
func (b *Backend) Discover(context.Context) (*registry.Challenge, error) { return nil, nil }

// PrepareTokens implements registry.Backend: a fake has no tokens to
// prepare.
func (b *Backend) PrepareTokens(context.Context, []string) error { return nil }
