package pullcred

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/molecule-ai/registrykit/backends/acr"
	"github.com/molecule-ai/registrykit/internal/acrtest"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Any ACR host is served with the ACR driver, whatever registry is
// configured, as ECR hosts are.
func TestACRHostsAreServed(t *testing.T) {
	r := New(registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "ghcr.io/molecule-ai"}))
	for _, h := range []string{"contoso.azurecr.io", "contoso.azurecr.cn", "contoso.azurecr.us"} {
		rt, ok, err := r.route(h)
		require.NoError(t, err)
		require.True(t, ok, h)
		assert.Equal(t, route{prefix: h, flavor: registry.FlavorACR, forced: true}, rt)
	}
}

// acrFixture is an imitation ACR and Entra ID, and a resolver whose ACR
// driver uses azidentity's EnvironmentCredential against that Entra ID.
func acrFixture(t *testing.T, env map[string]string) (*Resolver, *acrtest.Registry) {
	t.Helper()
	const tenant, clientID, secret = "409520d4-8100-4d1d-ad47-72432ddcc120", "7c1e4a4e-8d4a-4b8e-9f5a-2d0c1b7f3a11", "s3cret~ClientSecretValue"
	entra := acrtest.NewEntra(acrtest.EntraConfig{Tenant: tenant, ClientID: clientID, Secret: secret})
	t.Cleanup(entra.Close)
	reg := acrtest.NewRegistry(acrtest.RegistryConfig{Tenant: tenant, Audience: "https://containerregistry.azure.net",
		Users: map[string]string{"contoso": "admin-password"}})
	t.Cleanup(reg.Close)
	// EnvironmentCredential reads the process's environment; instance
	// discovery (sent to login.microsoftonline.com) is off.
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", clientID)
	t.Setenv("AZURE_CLIENT_SECRET", secret)
	t.Setenv("AZURE_AUTHORITY_HOST", entra.URL())
	cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: entra.Client()}, DisableInstanceDiscovery: true})
	require.NoError(t, err)
	m := map[string]string{"MOLECULE_IMAGE_REGISTRY": reg.Host(), "MOLECULE_IMAGE_REGISTRY_FLAVOR": "acr"}
	for k, v := range env {
		m[k] = v
	}
	r := New(registry.EnvMap(m))
	r.acrConfig = &acr.Config{Credential: cred}
	return r, reg
}

// With an Entra ID identity the helpers hand out the ACR refresh token, with
// the null GUID as user name and the token's own expiry.
func TestACRRefreshTokenForTheHelpers(t *testing.T) {
	r, reg := acrFixture(t, nil)
	before := time.Now()
	c, err := r.Get(context.Background(), reg.Host())
	require.NoError(t, err)
	assert.Equal(t, "00000000-0000-0000-0000-000000000000", c.Username)
	assert.NotEmpty(t, c.Password)
	assert.WithinDuration(t, before.Add(3*time.Hour), c.Expires, time.Minute, "the refresh token's exp")
	assert.Equal(t, acrtest.RegistryCounts{Exchange: 1}, reg.Counts(), "one exchange, no token request")
}

// The generic pair (the admin user) is handed out as is, without an
// expiry and without an exchange.
func TestACRGenericPairForTheHelpers(t *testing.T) {
	r, reg := acrFixture(t, map[string]string{"MOLECULE_IMAGE_REGISTRY_USER": "contoso", "MOLECULE_IMAGE_REGISTRY_TOKEN": "admin-password"})
	c, err := r.Get(context.Background(), reg.Host())
	require.NoError(t, err)
	assert.Equal(t, Credential{Registry: reg.Host(), Username: "contoso", Password: "admin-password"}, c)
	assert.Equal(t, acrtest.RegistryCounts{}, reg.Counts())
}
