package dockerauth

import (
	"errors"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
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
	if i := strings.LastIndex(name, "@"); i >= 0 && isDigest(name[i+1:]) {
		name = name[:i] // a digest; any other '@' is refused by ParsePrefix, which hides credentials
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") && i > strings.LastIndex(name, "]") {
		name = name[:i] // a tag
	}
	first, _, hasPath := strings.Cut(name, "/")
	if !hasPath || !strings.ContainsAny(first, ".:[") && first != "localhost" && strings.ToLower(first) == first {
		return "docker.io", nil
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

// isDigest reports whether s is a digest ("sha256:<64 hex>").
func isDigest(s string) bool {
	_, err := v1.NewHash(s)
	return err == nil
}

// sameRegistry reports whether two registry hosts are one registry: Docker
// Hub's names (docker.io, index.docker.io, registry-1.docker.io, without a
// port or on 443) alike, and other hosts in the canonical form of the one
// host identity (internal/host: case, a trailing dot, the default HTTPS port
// 443). Loopback addresses are compared exactly: a credential that leaves
// through the Docker Engine goes to the listener the image names, and
// 127.0.0.2:5000 or [::1]:5000 may be another user's.
func sameRegistry(a, b string) bool {
	if host.IsDockerHub(a) || host.IsDockerHub(b) {
		return host.IsDockerHub(a) && host.IsDockerHub(b)
	}
	ha, errA := host.Parse(a)
	hb, errB := host.Parse(b)
	return errA == nil && errB == nil && ha.WithDefaultPort("443") == hb.WithDefaultPort("443")
}
