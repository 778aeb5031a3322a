// Package distribution is the driver for any registry that implements the
// OCI distribution API: the CNCF distribution registry, Docker Hub, Harbor,
// Quay, zot, Artifactory and others.
//
// It discovers the registry's challenge with one GET /v2/ per backend
// (none when selection already probed it; Docker Hub's is known, so it is
// never probed), then authenticates the way the challenge says: a token
// exchange for Bearer (with realms on another host, such as Docker Hub's
// auth.docker.io, over HTTPS only), the credential itself for Basic,
// nothing when the registry is open. Credentials come from
// MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN (sent only
// to the registry MOLECULE_IMAGE_REGISTRY names), else Docker's config.
// Docker Hub's names are handled: docker.io is served from
// registry-1.docker.io, and single-segment names get "library/".
package distribution

import (
	"strings"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Docker Hub's token service, known in advance so that no probe is needed:
// registry-1.docker.io answers GET /v2/ with
// Bearer realm="https://auth.docker.io/token",service="registry.docker.io".
const (
	dockerHubRealm   = "https://auth.docker.io/token"
	dockerHubService = "registry.docker.io"
	dockerHubAPIHost = "registry-1.docker.io"
)

// Driver returns the OCI distribution driver: it claims Docker Hub's hosts
// and serves any registry no other driver claims.
func Driver() engine.Spec {
	return engine.Spec{
		Flavor:     registry.FlavorDistribution,
		ClaimsHost: isDockerHub,
		Fallback:   true,
		Configure:  configure,
	}
}

func configure(t engine.Target) (engine.Config, error) {
	regHost := t.Prefix.Host()
	// The distribution token spec allows several scopes in one request
	// (docs/content/spec/auth/scope.md); the CNCF registry's token servers,
	// Harbor, Quay and Docker Hub honour them.
	svc := engine.TokenService{MultiScope: true}
	cfg := engine.Config{
		Credentials: engine.DefaultCredentials(t, "", ""),
		Hint:        "run docker login " + regHost + ", set MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN, or point DOCKER_CONFIG at a config with credentials for " + regHost,
	}
	if isDockerHub(regHost) {
		cfg.APIHost, cfg.NormalizeRepo = dockerHubAPIHost, dockerHubRepository
		svc.Realm, svc.Service = dockerHubRealm, dockerHubService
	}
	cfg.Auth = svc
	return cfg, nil
}

// dockerHubRepository adds Docker Hub's implicit "library/" namespace.
func dockerHubRepository(repo string) string {
	if !strings.Contains(repo, "/") {
		return "library/" + repo
	}
	return repo
}

// isDockerHub reports whether h is Docker Hub: the only registry the
// distribution flavor is detected for by name (registry.DetectFlavor), on
// no port or 443.
func isDockerHub(h string) bool { return registry.DetectFlavor(h) == registry.FlavorDistribution }
