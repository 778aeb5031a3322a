package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	user        = "ci"
	password    = "e2e-password-0123456789"
	ecrPassword = "ecr-password-abcdefghij"
)

// pushed is what a test pushed: digests to compare with.
type pushed struct {
	single   string            // org/single:latest
	index    string            // org/multi:latest
	children map[string]string // platform -> child manifest digest
}

func push(t *testing.T, reg *Registry) pushed {
	t.Helper()
	auth := remote.WithAuth(&ggcrauthn.Basic{Username: user, Password: password})
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	ref, err := name.NewTag(reg.Host()+"/org/single:latest", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, auth))
	d, err := img.Digest()
	require.NoError(t, err)
	out := pushed{single: d.String(), children: map[string]string{}}

	var idx v1.ImageIndex = empty.Index
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		child, err := random.Image(256, 1)
		require.NoError(t, err)
		cd, err := child.Digest()
		require.NoError(t, err)
		out.children[p.String()] = cd.String()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: child, Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref, err = name.NewTag(reg.Host()+"/org/multi:latest", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx, auth))
	id, err := idx.Digest()
	require.NoError(t, err)
	out.index = id.String()
	reg.AddRepository("org/single")
	reg.AddRepository("org/multi")
	return out
}

// check resolves everything pushed through b and asserts the digests.
func check(t *testing.T, b registry.Backend, want pushed) {
	t.Helper()
	ctx := context.Background()
	d, err := b.ManifestDigest(ctx, "single", "latest")
	require.NoError(t, err)
	assert.Equal(t, want.single, d)

	d, err = b.ManifestDigest(ctx, "multi", "latest")
	require.NoError(t, err)
	assert.Equal(t, want.index, d, "the index digest")

	d, err = b.ManifestDigest(ctx, "multi", want.index)
	require.NoError(t, err)
	assert.Equal(t, want.index, d, "by digest")

	pr := b
	for p, child := range want.children {
		plat, err := registry.ParsePlatform(p)
		require.NoError(t, err)
		d, err := pr.PlatformDigest(ctx, "multi", "latest", plat)
		require.NoError(t, err)
		assert.Equal(t, child, d, p)
	}

	_, err = b.ManifestDigest(ctx, "single", "no-such-tag")
	require.ErrorIs(t, err, registry.ErrNotFound)
	_, err = b.ManifestDigest(ctx, "no-such-repo", "latest")
	require.Error(t, err)
}

// open opens the backend of reg's org with o (nil: the defaults), cred and
// no environment.
func open(t *testing.T, reg *Registry, cred authn.Credential, o *registry.Options) registry.Backend {
	t.Helper()
	var c registry.Options
	if o != nil {
		c = *o
	}
	c.Credentials, c.Env = authn.Static(cred), registry.EnvMap(nil)
	b, err := backends.Open(reg.Host()+"/org", &c)
	require.NoError(t, err)
	return b
}

func TestTokenAuthRegistry(t *testing.T) {
	reg, err := Start(TokenAuth, map[string]string{user: password}, t.TempDir())
	require.NoError(t, err)
	defer reg.Close()
	want := push(t, reg)
	good := authn.Credential{Username: user, Password: password}
	bad := authn.Credential{Username: user, Password: "wrong-password-value"}

	for _, flavor := range []registry.Flavor{registry.FlavorUnknown, registry.FlavorDistribution, registry.FlavorGHCR, registry.FlavorGitea} {
		t.Run(flavor.String(), func(t *testing.T) {
			b := open(t, reg, good, &registry.Options{Flavor: flavor})
			check(t, b, want)
			if flavor == registry.FlavorUnknown {
				assert.Equal(t, registry.FlavorDistribution, b.Flavor(), "probed on the first check")
			}

			wrong := open(t, reg, bad, &registry.Options{Flavor: flavor})
			_, err := wrong.ManifestDigest(context.Background(), "single", "latest")
			require.ErrorIs(t, err, registry.ErrUnauthorized)
			assert.NotContains(t, err.Error(), "wrong-password-value")
		})
	}
}

func TestTokenAuthRequestCounts(t *testing.T) {
	reg, err := Start(TokenAuth, map[string]string{user: password}, t.TempDir())
	require.NoError(t, err)
	defer reg.Close()
	push(t, reg)
	ctx := context.Background()
	cases := []struct {
		flavor               registry.Flavor
		cold, steady, newRep Counts
	}{
		{registry.FlavorUnknown, Counts{Ping: 1, Token: 1, Head: 1}, Counts{Head: 1}, Counts{Token: 1, Head: 1}},
		// The CNCF registry refuses a PAT sent as a bearer token, as ghcr.io
		// does not: the GHCR driver falls back to the token service once,
		// for the backend's lifetime, at the cost of one refused HEAD.
		{registry.FlavorGHCR, Counts{Token: 1, Head: 2}, Counts{Head: 1}, Counts{Token: 1, Head: 1}},
		// Gitea takes Basic on /v2/; the CNCF registry does not, so the
		// Gitea driver falls back to the token service once, as GHCR's does.
		{registry.FlavorGitea, Counts{Token: 1, Head: 2}, Counts{Head: 1}, Counts{Head: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.flavor.String(), func(t *testing.T) {
			reg.Reset()
			b := open(t, reg, authn.Credential{Username: user, Password: password}, &registry.Options{Flavor: tc.flavor})
			_, err := b.ManifestDigest(ctx, "single", "latest")
			require.NoError(t, err)
			assert.Equal(t, tc.cold, reg.Counts(), "cold")
			reg.Reset()
			for range 5 {
				_, err = b.ManifestDigest(ctx, "single", "latest")
				require.NoError(t, err)
			}
			assert.Equal(t, Counts{Head: 5 * tc.steady.Head}, reg.Counts(), "steady")
			reg.Reset()
			_, err = b.ManifestDigest(ctx, "multi", "latest")
			require.NoError(t, err)
			assert.Equal(t, tc.newRep, reg.Counts(), "new repository")
		})
	}
}

func TestHtpasswdRegistry(t *testing.T) {
	reg, err := Start(HtpasswdAuth, map[string]string{user: password, "AWS": ecrPassword}, t.TempDir())
	require.NoError(t, err)
	defer reg.Close()
	want := push(t, reg)

	b := open(t, reg, authn.Credential{Username: user, Password: password}, nil)
	check(t, b, want)
	assert.Equal(t, registry.FlavorDistribution, b.Flavor())
	reg.Reset()
	_, err = b.ManifestDigest(context.Background(), "single", "latest")
	require.NoError(t, err)
	assert.Equal(t, Counts{Head: 1}, reg.Counts())

	wrong := open(t, reg, authn.Credential{Username: user, Password: "wrong-password-value"}, nil)
	_, err = wrong.ManifestDigest(context.Background(), "single", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-password-value")
}

func TestECRAgainstHtpasswdRegistry(t *testing.T) {
	reg, err := Start(HtpasswdAuth, map[string]string{user: password, "AWS": ecrPassword}, t.TempDir())
	require.NoError(t, err)
	defer reg.Close()
	want := push(t, reg)

	creds := aws.Credentials{AccessKeyID: "AKIDE2E0123456789012", SecretAccessKey: "e2e/secret/access/key"}
	issued := ecrPassword
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "us-east-2", Credentials: creds,
		Issue: func() (string, time.Time) { return issued, time.Now().Add(12 * time.Hour) }})
	defer api.Close()
	registrytest.SetAWSEnv(t, creds, "AWS_ENDPOINT_URL_ECR", api.URL())
	b, err := backends.Open(reg.Host()+"/org", &registry.Options{Flavor: registry.FlavorECR}, ecr.Driver(&ecr.Config{Region: "us-east-2"}))
	require.NoError(t, err)
	check(t, b, want)
	assert.Equal(t, int64(1), api.Calls())
	assert.Empty(t, api.Errors())
	cred, err := b.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, authn.Credential{Username: "AWS", Password: ecrPassword}, cred)

	issued = "not-the-htpasswd-password"
	b, err = backends.Open(reg.Host()+"/org", &registry.Options{Flavor: registry.FlavorECR}, ecr.Driver(&ecr.Config{Region: "us-east-2"}))
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "single", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.False(t, strings.Contains(fmt.Sprint(err), issued))
}
