package acr

import "github.com/molecule-ai/registrykit/internal/host"

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
	suf, _ := host.ACRSuffix(h)
	switch suf {
	case ".azurecr.cn":
		return "https://containerregistry.azure.cn/.default"
	case ".azurecr.us":
		return "https://containerregistry.azure.us/.default"
	default:
		return "https://containerregistry.azure.net/.default"
	}
}
