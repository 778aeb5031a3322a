package registry

import (
	"strings"

	"github.com/molecule-ai/registrykit/internal/envvar"
	"github.com/molecule-ai/registrykit/internal/host"
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
	FlavorACR          Flavor = "acr"
	FlavorGAR          Flavor = "gar"
	FlavorDistribution Flavor = "distribution"
)

// flavors returns the names [ParseFlavor] accepts, in a stable order.
func flavors() []Flavor {
	return []Flavor{FlavorGHCR, FlavorECR, FlavorECRPublic, FlavorACR, FlavorGitea, FlavorGitLab, FlavorGAR, FlavorDistribution}
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
	for _, f := range flavors() {
		if string(f) == v {
			return f, nil
		}
	}
	names := make([]string, 0, len(flavors()))
	for _, f := range flavors() {
		names = append(names, string(f))
	}
	return FlavorUnknown, &ConfigError{
		Var: envvar.Flavor, Value: s,
		Reason: "unknown registry flavor",
		Fix:    "use one of " + strings.Join(names, ", ") + ", or leave it unset to detect the flavor from the host",
	}
}

// GitLab.com's registry host.
const gitLabHost = "registry.gitlab.com"

// DetectFlavor classifies a registry host ("host" or "host:port") by name
// alone: ghcr.io is [FlavorGHCR], an ECR private registry host is
// [FlavorECR], public.ecr.aws and ecr-public.aws.com are [FlavorECRPublic],
// an Azure Container Registry login server (*.azurecr.io, and Azure China's
// *.azurecr.cn and Azure Government's *.azurecr.us) is [FlavorACR],
// registry.gitlab.com is [FlavorGitLab],
// Google Artifact Registry's
// <location>-docker.pkg.dev hosts and gcr.io, us.gcr.io, eu.gcr.io and
// asia.gcr.io (which Artifact Registry now serves) are [FlavorGAR],
// Docker Hub's hosts are [FlavorDistribution], and any other host is
// [FlavorUnknown] until a probe of its /v2/ endpoint says more.
func DetectFlavor(s string) Flavor {
	h := hostName(s)
	switch h {
	case "ghcr.io":
		return FlavorGHCR
	case "public.ecr.aws", "ecr-public.aws.com":
		return FlavorECRPublic
	case gitLabHost:
		return FlavorGitLab
	}
	if host.IsDockerHub(s) { // with its port: docker.io:8443 is another registry
		return FlavorDistribution
	}
	if _, ok := host.ParseECR(h); ok {
		return FlavorECR
	}
	if _, ok := host.ACRSuffix(h); ok {
		return FlavorACR
	}
	if host.IsGAR(h) {
		return FlavorGAR
	}
	return FlavorUnknown
}
