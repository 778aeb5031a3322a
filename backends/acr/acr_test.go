package acr_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends/acr"
	"github.com/molecule-ai/registrykit/internal/acrtest"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tenant   = "409520d4-8100-4d1d-ad47-72432ddcc120" // AAD-OAuth.md's example tenant
	clientID = "7c1e4a4e-8d4a-4b8e-9f5a-2d0c1b7f3a11"
	secret   = "s3cret~ClientSecretValue0123456789"
	audience = "https://containerregistry.azure.net"
	repoA    = "team/api"
	repoB    = "team/worker"
)

type fixture struct {
	reg     *acrtest.Registry
	entra   *acrtest.Entra
	clock   *registrytest.Clock
	backend registry.Backend
	digests map[string]string
}

// options of a fixture: the registry's, and the driver's Entra credential.
type options struct {
	regCfg     func(*acrtest.RegistryConfig)
	credential func(t *testing.T, e *acrtest.Entra) azcore.TokenCredential
	env        map[string]string // besides MOLECULE_IMAGE_REGISTRY
	scope      string
}

// environmentCredential is azidentity's EnvironmentCredential (a client
// secret in AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET) pointed
// at the imitation Entra ID through AZURE_AUTHORITY_HOST, with instance
// discovery off (MSAL would ask login.microsoftonline.com).
func environmentCredential(secret string) func(t *testing.T, e *acrtest.Entra) azcore.TokenCredential {
	return func(t *testing.T, e *acrtest.Entra) azcore.TokenCredential {
		t.Setenv("AZURE_TENANT_ID", tenant)
		t.Setenv("AZURE_CLIENT_ID", clientID)
		t.Setenv("AZURE_CLIENT_SECRET", secret)
		t.Setenv("AZURE_AUTHORITY_HOST", e.URL())
		cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Transport: e.Client()},
			DisableInstanceDiscovery: true,
		})
		require.NoError(t, err)
		return cred
	}
}

// noAzure is a credential chain that finds no identity, as
// DefaultAzureCredential does on a machine without Azure configuration.
type noAzure struct{ calls atomic.Int64 }

func (n *noAzure) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n.calls.Add(1)
	return azcore.AccessToken{}, errors.New("DefaultAzureCredential: failed to acquire a token: no credential available")
}

func setup(t *testing.T, o options) *fixture {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	entra := acrtest.NewEntra(acrtest.EntraConfig{Tenant: tenant, ClientID: clientID, Secret: secret})
	t.Cleanup(entra.Close)
	rc := acrtest.RegistryConfig{Now: clock.Now, Tenant: tenant, Audience: audience}
	if o.regCfg != nil {
		o.regCfg(&rc)
	}
	reg := acrtest.NewRegistry(rc)
	t.Cleanup(reg.Close)
	f := &fixture{reg: reg, entra: entra, clock: clock, digests: map[string]string{}}
	for _, repo := range []string{repoA, repoB} {
		img, err := random.Image(256, 1)
		require.NoError(t, err)
		h, err := reg.Push(repo, "latest", img)
		require.NoError(t, err)
		f.digests[repo] = h.String()
	}
	var cred azcore.TokenCredential
	if o.credential != nil {
		cred = o.credential(t, entra)
	}
	env := map[string]string{"MOLECULE_IMAGE_REGISTRY": reg.Host()}
	for k, v := range o.env {
		env[k] = v
	}
	p := registry.MustParsePrefix(reg.Host())
	b, err := engine.Open(p, []engine.Spec{acr.Driver(&acr.Config{Credential: cred, Scope: o.scope})},
		&registry.Options{Flavor: registry.FlavorACR, Clock: clock, Env: registry.EnvMap(env)})
	require.NoError(t, err)
	f.backend = b
	return f
}

func (f *fixture) check(t *testing.T, repo string) {
	t.Helper()
	d, err := f.backend.ManifestDigest(context.Background(), repo, "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests[repo], d)
}

// With an Entra ID identity, a cold check costs one exchange, one token
// request and one HEAD; a steady check one HEAD; another repository one
// token request and one HEAD; an access token's expiry one token request,
// no new exchange; only the refresh token's expiry a new Entra ID token and
// exchange.
func TestEntraRequestsPerCheck(t *testing.T) {
	f := setup(t, options{credential: environmentCredential(secret)})
	steps := []struct {
		name    string
		advance time.Duration
		repo    string
		want    acrtest.RegistryCounts
	}{
		{"cold", 0, repoA, acrtest.RegistryCounts{Exchange: 1, Token: 1, Head: 1}},
		{"steady", time.Minute, repoA, acrtest.RegistryCounts{Head: 1}},
		{"another repository", 0, repoB, acrtest.RegistryCounts{Token: 1, Head: 1}},
		// The 75-minute access token is renewed ahead, at 80 % of its life.
		{"access token expiry", 61 * time.Minute, repoA, acrtest.RegistryCounts{Token: 1, Head: 1}},
		{"steady again", time.Minute, repoA, acrtest.RegistryCounts{Head: 1}},
		// The 3-hour refresh token is renewed ahead too (at 144 minutes).
		{"refresh token expiry", 90 * time.Minute, repoA, acrtest.RegistryCounts{Exchange: 1, Token: 1, Head: 1}},
		{"steady after renewal", time.Minute, repoA, acrtest.RegistryCounts{Head: 1}},
	}
	prev := f.reg.Counts()
	for _, s := range steps {
		f.clock.Advance(s.advance)
		f.check(t, s.repo)
		now := f.reg.Counts()
		got := acrtest.RegistryCounts{Ping: now.Ping - prev.Ping, Exchange: now.Exchange - prev.Exchange,
			Token: now.Token - prev.Token, Head: now.Head - prev.Head, Rejected: now.Rejected - prev.Rejected}
		assert.Equal(t, s.want, got, s.name)
		prev = now
	}
	assert.Equal(t, acrtest.EntraCounts{Discovery: 1, Token: 1}, f.entra.Counts(),
		"one Entra ID token (MSAL keeps it by the system clock, which the registry's clock runs ahead of)")
}

// A Docker client is handed the ACR refresh token with the null GUID as
// user name, as az acr login hands it to docker login.
func TestDockerCredentialIsTheRefreshToken(t *testing.T) {
	f := setup(t, options{credential: environmentCredential(secret)})
	c, err := f.backend.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "00000000-0000-0000-0000-000000000000", c.Username)
	assert.NotEmpty(t, c.IdentityToken)
	assert.Equal(t, int64(1), f.reg.Counts().Exchange)
}

// The generic pair (an admin user or a repository-scoped token) goes
// through the ordinary Basic -> token flow: no Entra ID token, no exchange.
func TestGenericPairSkipsTheExchange(t *testing.T) {
	f := setup(t, options{
		regCfg:     func(c *acrtest.RegistryConfig) { c.Users = map[string]string{"contoso": "admin-password"} },
		credential: environmentCredential(secret),
		env:        map[string]string{"MOLECULE_IMAGE_REGISTRY_USER": "contoso", "MOLECULE_IMAGE_REGISTRY_TOKEN": "admin-password"},
	})
	f.check(t, repoA)
	f.check(t, repoA)
	assert.Equal(t, acrtest.RegistryCounts{Token: 1, Head: 2}, f.reg.Counts())
	assert.Equal(t, acrtest.EntraCounts{}, f.entra.Counts())
}

// Without an Azure identity, a registry that allows anonymous pull is read
// anonymously, and Azure is not asked again on every token request.
func TestAnonymousPullWithoutAzure(t *testing.T) {
	none := &noAzure{}
	f := setup(t, options{
		regCfg:     func(c *acrtest.RegistryConfig) { c.AllowAnonymous = true },
		credential: func(*testing.T, *acrtest.Entra) azcore.TokenCredential { return none },
	})
	f.check(t, repoA)
	f.check(t, repoB)
	assert.Equal(t, acrtest.RegistryCounts{Token: 2, Head: 2}, f.reg.Counts())
	assert.Equal(t, int64(1), none.calls.Load(), "Azure is asked once, not for every token")
	f.clock.Advance(70 * time.Minute) // past the unavailability memo and the access token
	f.check(t, repoA)
	assert.Equal(t, int64(2), none.calls.Load(), "and again after a while")
}

// A refused Entra ID credential, or an exchange the registry refuses, is an
// authentication error naming the fix, without the secret.
func TestRefusalsAreAuthenticationErrors(t *testing.T) {
	cases := []struct {
		name string
		o    options
		want string
	}{
		{"wrong client secret", options{credential: environmentCredential("wrong-secret-value")}, "authentication failed"},
		{"token for another audience", options{credential: environmentCredential(secret), scope: "https://management.azure.com/.default"}, "/oauth2/exchange"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, tc.o)
			_, err := f.backend.ManifestDigest(context.Background(), repoA, "latest")
			require.ErrorIs(t, err, registry.ErrUnauthorized)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "AcrPull")
			assert.NotContains(t, err.Error(), secret)
			assert.Zero(t, f.reg.Counts().Head, "no manifest request without a token")
		})
	}
}

// The Entra ID token goes to the registry's /oauth2/exchange and nowhere
// else: a redirect there is not followed.
func TestExchangeFollowsNoRedirect(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		leaked.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/oauth2/exchange", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(reg.Close)
	entra := acrtest.NewEntra(acrtest.EntraConfig{Tenant: tenant, ClientID: clientID, Secret: secret})
	t.Cleanup(entra.Close)
	cred := environmentCredential(secret)(t, entra)
	h := strings.TrimPrefix(reg.URL, "http://")
	b, err := engine.Open(registry.MustParsePrefix(h), []engine.Spec{acr.Driver(&acr.Config{Credential: cred})},
		&registry.Options{Flavor: registry.FlavorACR, Env: registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": h})})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), repoA, "latest")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/oauth2/exchange answered 307")
	assert.Zero(t, leaked.Load(), "nothing reached the redirect's target")
}
