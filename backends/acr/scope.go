package acr

import (
	"net"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

// scopeFor returns the Entra ID scope for registry host h: the configured
// one, else its cloud's ACR audience. AAD-OAuth.md (Azure/acr) names the
// public cloud's resource, https://containerregistry.azure.net; the
// sovereign clouds' are those of ratify-project/ratify's Azure auth
// provider (AADResourceChinaCloud, AADResourceUSGovernmentCloud). A host
// that is not an ACR login server (the acr flavor forced on another host)
// gets the public cloud's.
func scopeFor(configured, h string) string {
	if configured != "" {
		return configured
	}
	name := strings.ToLower(h)
	if hostOnly, _, err := net.SplitHostPort(name); err == nil {
		name = hostOnly
	}
	switch {
	case registry.DetectFlavor(h) != registry.FlavorACR:
	case strings.HasSuffix(name, ".azurecr.cn"):
		return "https://containerregistry.azure.cn/.default"
	case strings.HasSuffix(name, ".azurecr.us"):
		return "https://containerregistry.azure.us/.default"
	}
	return "https://containerregistry.azure.net/.default"
}
