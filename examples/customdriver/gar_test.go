package customdriver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/examples/customdriver"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The third-party driver beside the built-in ones, against the public test
// kit: a token-auth registry that knows the user oauth2accesstoken.
func TestArtifactRegistryDriver(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution,
		Users: map[string]string{"oauth2accesstoken": "ya29.access-token"}})
	defer srv.Close()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	want, err := srv.Push("project/repo/app", "latest", img)
	require.NoError(t, err)

	opts := &registry.Options{Flavor: customdriver.Flavor, Env: registry.EnvMap(map[string]string{})}
	drivers := append(backends.Drivers(), customdriver.Driver(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.access-token"})))
	b, err := engine.Open(registry.MustParsePrefix(srv.Host()+"/project/repo"), drivers, opts)
	require.NoError(t, err)
	for range 3 {
		d, err := b.ManifestDigest(context.Background(), "app", "latest")
		require.NoError(t, err)
		assert.Equal(t, want.String(), d)
	}
	assert.Equal(t, registrytest.Counts{Ping: 1, Token: 1, Head: 3}, srv.Counts(), "probe, token, then one HEAD per check")

	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "oauth2accesstoken", cred.Username)

	drivers = append(backends.Drivers(), customdriver.Driver(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "revoked"})))
	bad, err := engine.Open(registry.MustParsePrefix(srv.Host()+"/project/repo"), drivers, opts)
	require.NoError(t, err)
	_, err = bad.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "gcloud auth application-default login")
	assert.NotContains(t, err.Error(), "revoked")
}

// Artifact Registry hosts select the driver by name.
func ExampleDriver() {
	drivers := append(backends.Drivers(), customdriver.Driver(nil))
	b, err := engine.Open(registry.MustParsePrefix("us-docker.pkg.dev/my-project/images"), drivers, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	// Output: gar us-docker.pkg.dev
}
