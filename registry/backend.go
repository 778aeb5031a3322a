package registry

import (
	"context"

	"github.com/molecule-ai/registrykit/authn"
	"golang.org/x/oauth2"
)

// Backend is one configured container registry: a host plus the organisation
// path below it where the platform's images live.
//
// In every method, repo is a repository path relative to [Backend.Prefix]
// ("workspace-template-langgraph"), never a full reference. Methods that do
// I/O take a context first and return errors that match the sentinels of this
// package through errors.Is ([ErrNotFound], [ErrUnauthorized], [ErrDenied],
// [ErrRateLimited], [ErrInvalidConfig], [ErrUnsupported]) and, through
// errors.As, an [*Error] carrying the details.
//
// A Backend is safe for concurrent use.
type Backend interface {
	// Host is the registry host, with its port when it has one:
	// "ghcr.io", "123456789012.dkr.ecr.us-east-2.amazonaws.com",
	// "127.0.0.1:5000". It is what the Docker Engine expects as
	// "serveraddress".
	Host() string

	// Prefix is the host followed by the organisation path, e.g.
	// "ghcr.io/molecule-ai". It equals Host when the prefix has no path.
	Prefix() string

	// Token returns a pull credential for repo (empty for the registry's
	// token that names no repository, where it issues one), ready for
	// tok.SetAuthHeader(req): TokenType "Bearer" for token-flow registries,
	// "Basic" where the registry takes basic credentials directly (ECR,
	// htpasswd). A registry that needs no authentication yields a token with
	// an empty AccessToken: send no Authorization header for it.
	//
	// Tokens are cached per registry, identity and scope and refreshed ahead of
	// their expiry; concurrent callers needing the same token cause a single
	// fetch. The returned token must not be modified.
	Token(ctx context.Context, repo string) (*oauth2.Token, error)

	// ManifestDigest returns the digest ("sha256:<64 hex>") of the manifest
	// that ref points at in repo, where ref is a tag ("latest") or a digest.
	// For a multi-platform image it is the digest of the index, the one
	// "docker pull" resolves. In steady state it costs one HEAD request.
	ManifestDigest(ctx context.Context, repo, ref string) (string, error)
	// PlatformDigest returns the digest of the manifest for platform
	// ("linux/amd64", "linux/arm64/v8") that ref points at in repo. When ref
	// names a single-platform manifest, its own digest is returned.
	PlatformDigest(ctx context.Context, repo, ref string, platform Platform) (string, error)
	// Credential returns the credential a client such as the Docker Engine
	// should present to the registry: the PAT for GHCR, "AWS" and the
	// decoded password for ECR, the token for Gitea, an empty credential
	// for anonymous access.
	Credential(ctx context.Context) (authn.Credential, error)
	// Flavor returns the flavor serving the registry; FlavorUnknown until a
	// backend that selects its flavor from the registry's challenge has
	// made its first request (or Discover).
	Flavor() Flavor
	// Discover selects the flavor when it is not known yet and learns the
	// registry's challenge now, which it returns (nil for a flavor with
	// none, such as ECR's fetched token).
	Discover(ctx context.Context) (*Challenge, error)
	// PrepareTokens fetches the tokens of several repositories at once: one
	// token request carrying every scope, where the registry honours
	// several scopes (the distribution token spec allows it), instead of
	// one per repository. A watcher calls it at the start of a tick.
	// Repositories whose tokens are cached and fresh are left alone; a
	// backend that needs no tokens, or whose tokens are not scoped, does
	// nothing.
	PrepareTokens(ctx context.Context, repos []string) error
}
