package registry

import (
	"strings"
)

// Flavor names a kind of registry that needs its own driver.
type Flavor string

// The built-in flavors. FlavorUnknown is what [DetectFlavor] answers for a
// host that only a probe of its /v2/ endpoint can classify.
const (
	FlavorUnknown      Flavor = ""
	FlavorGHCR         Flavor = "ghcr"
	FlavorECR          Flavor = "ecr"
	FlavorECRPublic    Flavor = "ecr-public"
	FlavorGitea        Flavor = "gitea"
	FlavorGitLab       Flavor = "gitlab"
	FlavorDistribution Flavor = "distribution"
)

// Flavors returns the names [ParseFlavor] accepts, in a stable order.
func Flavors() []Flavor {
	return []Flavor{FlavorGHCR, FlavorECR, FlavorECRPublic, FlavorGitea, FlavorGitLab, FlavorDistribution}
}

// String returns the flavor's name, or "unknown" for FlavorUnknown.
func (f Flavor) String() string {
	if f == FlavorUnknown {
		return "unknown"
	}
	return string(f)
}

// ParseFlavor parses a MOLECULE_IMAGE_REGISTRY_FLAVOR value. Case and
// surrounding white space are ignored; an empty value is FlavorUnknown
// (detect from the host). An unknown name is a [*ConfigError] matching
// [ErrInvalidConfig] that lists the valid names.
func ParseFlavor(s string) (Flavor, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return FlavorUnknown, nil
	}
	for _, f := range Flavors() {
		if string(f) == v {
			return f, nil
		}
	}
	names := make([]string, 0, 5)
	for _, f := range Flavors() {
		names = append(names, string(f))
	}
	return FlavorUnknown, &ConfigError{
		Var: EnvFlavor, Value: s,
		Reason: "unknown registry flavor",
		Fix:    "use one of " + strings.Join(names, ", ") + ", or leave it unset to detect the flavor from the host",
	}
}

// GitLab.com's registry host, and Docker Hub's names.
const (
	gitLabHost       = "registry.gitlab.com"
	dockerHubHost    = "docker.io"
	dockerHubAPIHost = "registry-1.docker.io"
)

// DetectFlavor classifies a registry host ("host" or "host:port") by name
// alone: ghcr.io is [FlavorGHCR], an ECR private registry host is
// [FlavorECR], public.ecr.aws and ecr-public.aws.com are [FlavorECRPublic],
// registry.gitlab.com is [FlavorGitLab],
// Docker Hub's hosts are [FlavorDistribution], and any other host is
// [FlavorUnknown] until a probe of its /v2/ endpoint says more.
func DetectFlavor(host string) Flavor {
	h := hostName(host)
	switch h {
	case "ghcr.io":
		return FlavorGHCR
	case "public.ecr.aws", "ecr-public.aws.com":
		return FlavorECRPublic
	case gitLabHost:
		return FlavorGitLab
	case dockerHubHost, "index.docker.io", dockerHubAPIHost:
		return FlavorDistribution
	}
	if _, ok := ParseECRHost(h); ok {
		return FlavorECR
	}
	return FlavorUnknown
}

// IsDockerHub reports whether host is one of Docker Hub's names, with no
// port or port 443: "docker.io:8443" is another registry to Docker.
func IsDockerHub(host string) bool {
	if p := hostPort(host); p != "" && p != "443" {
		return false
	}
	switch hostName(host) {
	case dockerHubHost, "index.docker.io", dockerHubAPIHost:
		return true
	}
	return false
}
