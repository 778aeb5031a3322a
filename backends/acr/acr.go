// Package acr is the driver for Azure Container Registry
// (<name>.azurecr.io, and Azure China's <name>.azurecr.cn and Azure
// Government's <name>.azurecr.us).
//
// The registry's token service is known in advance (realm
// https://<registry>/oauth2/token, service <registry>; Azure/acr,
// docs/AAD-OAuth.md), so no /v2/ probe is sent. The credential is, in order:
// the caller's (registry.Options.Credentials), the generic pair
// MOLECULE_IMAGE_REGISTRY_USER / MOLECULE_IMAGE_REGISTRY_TOKEN (a
// repository-scoped token, the admin user, a service principal's ID and
// secret) or Docker's config, all sent through the ordinary Basic -> token
// flow; else a Microsoft Entra ID identity from azidentity's
// DefaultAzureCredential (environment service principal, workload identity,
// managed identity, Azure CLI; or Config.Credential), whose access token is
// exchanged once at POST /oauth2/exchange for an ACR refresh token; else
// anonymous access, which works on a registry that allows anonymous pull.
//
// The ACR refresh token is kept for the lifetime its exp claim states (3
// hours when it states none) and presented to /oauth2/token, with the null
// GUID as user name, for each repository's access token. A steady check is
// one HEAD; an access token's expiry costs one /oauth2/token request; only
// the refresh token's expiry costs a new Entra ID token and exchange.
package acr

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// hint is the fix named in ACR authentication errors.
const hint = "give the Azure identity (AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET, workload or managed identity, az login) the AcrPull role on the registry, or set MOLECULE_IMAGE_REGISTRY_USER and MOLECULE_IMAGE_REGISTRY_TOKEN to a repository-scoped token or the admin user; an anonymous caller can pull only where anonymous pull is enabled"

// Config configures the ACR driver. The zero value, and a nil *Config, use
// azidentity's DefaultAzureCredential and the registry cloud's ACR audience.
type Config struct {
	// Credential replaces DefaultAzureCredential as the source of the
	// Microsoft Entra ID access token exchanged for an ACR refresh token.
	Credential azcore.TokenCredential
	// Scope is the Entra ID scope of that access token; empty means the
	// registry cloud's ACR audience ("https://containerregistry.azure.net/.default"
	// for *.azurecr.io, ".azure.cn" for *.azurecr.cn, ".azure.us" for
	// *.azurecr.us). "https://management.azure.com/.default", an Azure
	// Resource Manager token, is also accepted by a registry that allows
	// ARM-audience tokens.
	Scope string
}

// Driver returns the ACR driver configured by c (nil: the defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	return engine.Spec{
		Flavor:     registry.FlavorACR,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorACR },
		Configure:  func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

// configure does no I/O: the Entra ID credential is built, and asked for a
// token, on the first token request that finds no other credential.
func configure(t engine.Target, c Config) (engine.Config, error) {
	h := t.Prefix.Host()
	base := engine.Scheme(h, t.Options) + "://" + h
	return engine.Config{
		Auth: engine.TokenService{
			// ACR answers GET /v2/ with
			// Bearer realm="https://<registry>/oauth2/token",service="<registry>"
			// (Azure/acr, docs/AAD-OAuth.md, "Calling POST /oauth2/token").
			Realm:   base + "/oauth2/token",
			Service: h,
		},
		Credentials: withEntra(engine.DefaultCredentials(t, "", ""), newEntra(t.Options, c, h, base+"/oauth2/exchange")),
		Hint:        hint,
	}, nil
}
