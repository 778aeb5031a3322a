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
)

// The third-party driver beside the built-in ones, against the public test
// kit's Quay imitation: no /v2/ probe, one token for the hour, the robot's
// variables read, and a refusal that names them.
func TestQuayRobotDriver(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Quay,
		Users: map[string]string{"org+puller": "robot-token-0123456789"}})
	defer srv.Close()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	want, err := srv.Push("org/app", "latest", img)
	require.NoError(t, err)

	open := func(env map[string]string) registry.Backend {
		env["MOLECULE_IMAGE_REGISTRY"] = srv.Host() + "/org"
		opts := &registry.Options{Flavor: customdriver.Flavor, Env: registry.EnvMap(env)}
		b, err := engine.Open(registry.MustParsePrefix(srv.Host()+"/org"), append(backends.Drivers(), customdriver.Driver()), opts)
		require.NoError(t, err)
		return b
	}
	b := open(map[string]string{"QUAY_ROBOT": "org+puller", "QUAY_ROBOT_TOKEN": "robot-token-0123456789"})
	for range 3 {
		d, err := b.ManifestDigest(context.Background(), "app", "latest")
		require.NoError(t, err)
		assert.Equal(t, want.String(), d)
	}
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 3}, srv.Counts(), "no probe, one token, then one HEAD per check")

	bad := open(map[string]string{"QUAY_ROBOT": "org+puller", "QUAY_ROBOT_TOKEN": "revoked"})
	_, err = bad.ManifestDigest(context.Background(), "app", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "QUAY_ROBOT_TOKEN")
	assert.NotContains(t, err.Error(), "revoked")
}

// quay.io selects the driver by name.
func ExampleDriver() {
	b, err := backends.Open("quay.io/my-org", nil, customdriver.Driver())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	// Output: quay quay.io
}
