// Package distribution is the driver for any registry that implements the
// OCI distribution API: the CNCF distribution registry, Docker Hub, Harbor,
// Quay, zot, Artifactory and others.
//
// It discovers the registry's challenge with one GET /v2/ per backend
// (none when selection already probed it), then authenticates the way the
// challenge says (Docker Hub's is known, so it is never probed): a token exchange for Bearer (with realms on another host,
// such as Docker Hub's auth.docker.io, over HTTPS only), the credential
// itself for Basic, nothing when the registry is open. Credentials come
// from MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN (sent
// only to the registry MOLECULE_IMAGE_REGISTRY names), else Docker's config. Docker Hub's names are handled: docker.io is served
// from registry-1.docker.io, and single-segment names get "library/".
package distribution

import (
	"strings"

	"github.com/molecule-ai/registrykit/internal/driverkit"
	"github.com/molecule-ai/registrykit/internal/tokenflow"
	"github.com/molecule-ai/registrykit/registry"
)

// Docker Hub's token service, known in advance so that no probe is needed.
const (
	dockerHubRealm   = "https://auth.docker.io/token"
	dockerHubService = "registry.docker.io"
)

// Driver is the OCI distribution driver.
type Driver struct{}

var (
	_ registry.Driver         = Driver{}
	_ registry.FallbackDriver = Driver{}
)

// Flavor implements registry.Driver.
func (Driver) Flavor() registry.Flavor { return registry.FlavorDistribution }

// Claims implements registry.Driver: Docker Hub's hosts.
func (Driver) Claims(p registry.Prefix) bool { return registry.IsDockerHub(p.Host()) }

// Fallback implements registry.FallbackDriver: any registry no other driver
// claims.
func (Driver) Fallback() bool { return true }

// Open implements registry.Driver. It does no I/O; the first request probes
// the registry unless o.Challenge is already known.
func (Driver) Open(p registry.Prefix, o *registry.Options) (registry.Backend, error) {
	host := p.Host()
	hint := "run docker login " + host + ", or point DOCKER_CONFIG at a config with credentials for " + host
	t := driverkit.TokenFlow{
		Flavor: registry.FlavorDistribution, Prefix: p,
		Credential: driverkit.Credentials(o, host, "", "", hint),
		Hint:       hint,
	}
	if registry.IsDockerHub(host) {
		t.APIHost, t.Scheme, t.NormalizeRepo = registry.DockerHubAPIHost, "https", dockerHubRepository
		t.Challenge = tokenflow.ChallengeFromRealm(dockerHubRealm, dockerHubService, false)
	}
	return t.Open(o), nil
}

// dockerHubRepository adds Docker Hub's implicit "library/" namespace.
func dockerHubRepository(repo string) string {
	if !strings.Contains(repo, "/") {
		return "library/" + repo
	}
	return repo
}
