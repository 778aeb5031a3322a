package ecrpublic_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setup(t *testing.T, anonymous bool) (*registrytest.Server, *registrytest.Clock, string) {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.ECRPublic, AllowAnonymous: anonymous, Now: clock.Now})
	t.Cleanup(srv.Close)
	img, err := random.Image(32, 1)
	require.NoError(t, err)
	h, err := srv.Push("a1b2c3d4/x", "latest", img)
	require.NoError(t, err)
	return srv, clock, h.String()
}

func TestAnonymousBearerFlow(t *testing.T) {
	srv, clock, want := setup(t, true)
	b, err := backends.Open(srv.Host()+"/a1b2c3d4", &registry.Options{Flavor: registry.FlavorECRPublic, Clock: clock, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	d, err := b.ManifestDigest(context.Background(), "x", "latest")
	require.NoError(t, err)
	assert.Equal(t, want, d)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 1}, srv.Counts(), "known realm: no probe")
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.True(t, cred.IsAnonymous())
}

func TestExpiredBearer400RefreshesOnce(t *testing.T) {
	srv, clock, want := setup(t, true)
	b, err := backends.Open(srv.Host()+"/a1b2c3d4", &registry.Options{Flavor: registry.FlavorECRPublic, Clock: clock, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.NoError(t, err)
	srv.RevokeTokens()
	srv.ResetCounts()
	d, err := b.ManifestDigest(context.Background(), "x", "latest")
	require.NoError(t, err)
	assert.Equal(t, want, d)
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 2, Rejected: 1}, srv.Counts())
}

func TestAWSAuthenticatedPulls(t *testing.T) {
	srv, clock, want := setup(t, false)
	creds := aws.Credentials{AccessKeyID: "AKIDPUBLIC0123456789", SecretAccessKey: "public/secret/key/EXAMPLE"}
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr-public", Region: "us-east-1", Credentials: creds,
		Issue: func() (string, time.Time) {
			exp := clock.Now().Add(12 * time.Hour)
			return srv.IssueECRPassword(exp), exp
		}})
	defer api.Close()
	registrytest.SetAWSEnv(t, creds, "AWS_ENDPOINT_URL_ECR_PUBLIC", api.URL())
	b, err := backends.Open(srv.Host()+"/a1b2c3d4", &registry.Options{Flavor: registry.FlavorECRPublic, Clock: clock})
	require.NoError(t, err)
	for range 3 {
		d, err := b.ManifestDigest(context.Background(), "x", "latest")
		require.NoError(t, err)
		assert.Equal(t, want, d)
	}
	assert.Equal(t, int64(1), api.Calls())
	assert.Empty(t, api.Errors())
	assert.Equal(t, registrytest.Counts{Token: 1, Head: 3}, srv.Counts())
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "AWS", cred.Username)
}

func TestAnonymousRefusedByPrivateRepository(t *testing.T) {
	srv, clock, _ := setup(t, false)
	anonymous := false
	b, err := backends.Open(srv.Host()+"/a1b2c3d4", &registry.Options{Flavor: registry.FlavorECRPublic, Clock: clock},
		ecrpublic.Driver(&ecrpublic.Config{AWSAuth: &anonymous}))
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), ecrpublic.Action)
}
