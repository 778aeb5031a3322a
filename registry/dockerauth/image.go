package dockerauth

import (
	"errors"
	"net/url"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// imageFix says how to write an image reference.
const imageFix = "write [host[:port]/]path[:tag][@digest], e.g. " + registry.DefaultPrefix + "/workspace-template-langgraph:latest"

// imageHost returns the registry host of an image reference, as the Docker
// Engine reads it (distribution/reference's splitDockerDomain): the first
// path segment when it has a '.' or a ':', is "localhost" or has upper-case
// letters, else Docker Hub. The host is parsed as a prefix's host is
// ([registry.ParsePrefix]): lowercased, its port checked. A malformed
// reference is a *registry.ConfigError naming the image.
func imageHost(image string) (string, error) {
	name := strings.TrimSpace(image)
	if name == "" {
		return "", &registry.ConfigError{Var: "image", Value: image, Reason: "empty image reference", Fix: imageFix}
	}
	if i := strings.LastIndex(name, "@"); i >= 0 && engine.IsDigest(name[i+1:]) {
		name = name[:i] // a digest; any other '@' is refused by ParsePrefix, which hides credentials
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") && i > strings.LastIndex(name, "]") {
		name = name[:i] // a tag
	}
	first, _, hasPath := strings.Cut(name, "/")
	if !hasPath || !strings.ContainsAny(first, ".:[") && first != "localhost" && strings.ToLower(first) == first {
		return registry.DockerHubHost, nil
	}
	p, err := registry.ParsePrefix(name)
	if err != nil {
		var ce *registry.ConfigError
		if errors.As(err, &ce) {
			return "", &registry.ConfigError{Var: "image", Value: ce.Value, Reason: ce.Reason, Fix: imageFix}
		}
		return "", err
	}
	return p.Host(), nil
}

// sameRegistry reports whether two registry hosts are one registry: Docker
// Hub's names (docker.io, index.docker.io, registry-1.docker.io) alike, and
// other hosts compared as the engine compares them ([engine.CanonicalHost]:
// case, a trailing dot, IP spellings and the default HTTPS port 443).
func sameRegistry(a, b string) bool {
	if registry.IsDockerHub(a) || registry.IsDockerHub(b) {
		return registry.IsDockerHub(a) && registry.IsDockerHub(b)
	}
	return engine.CanonicalHost(&url.URL{Scheme: "https", Host: a}) == engine.CanonicalHost(&url.URL{Scheme: "https", Host: b})
}
