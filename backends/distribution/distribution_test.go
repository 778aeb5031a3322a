package distribution_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	user = "ci"
	pass = "distribution-pass-0123"
)

func open(t *testing.T, srv *registrytest.Server, clock *registrytest.Clock, cred authn.Credential) registry.Backend {
	t.Helper()
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Clock: clock, Credentials: authn.Static(cred)})
	require.NoError(t, err)
	_, err = b.Discover(context.Background()) // the probe, which a first check would send
	f := b.Flavor()
	require.NoError(t, err)
	require.Equal(t, registry.FlavorDistribution, f)
	return b
}

func push(t *testing.T, srv *registrytest.Server, repo string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	h, err := srv.Push("org/"+repo, "latest", img)
	require.NoError(t, err)
	return h.String()
}

func TestRequestCountsPerChallenge(t *testing.T) {
	cases := []struct {
		name                  string
		mode                  registrytest.Mode
		cred                  authn.Credential
		cold, steady, newRepo registrytest.Counts
	}{
		{"bearer", registrytest.Distribution, authn.Credential{Username: user, Password: pass},
			registrytest.Counts{Ping: 1, Token: 1, Head: 1}, registrytest.Counts{Head: 1}, registrytest.Counts{Token: 1, Head: 1}},
		{"basic", registrytest.Basic, authn.Credential{Username: user, Password: pass},
			registrytest.Counts{Ping: 1, Head: 1}, registrytest.Counts{Head: 1}, registrytest.Counts{Head: 1}},
		{"open", registrytest.Anonymous, authn.Credential{},
			registrytest.Counts{Ping: 1, Head: 1}, registrytest.Counts{Head: 1}, registrytest.Counts{Head: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := registrytest.NewClock(time.Now())
			srv := registrytest.NewServer(registrytest.Config{Mode: tc.mode, Users: map[string]string{user: pass}, Now: clock.Now})
			defer srv.Close()
			d1, d2 := push(t, srv, "one"), push(t, srv, "two")
			ctx := context.Background()
			b := open(t, srv, clock, tc.cred)

			got, err := b.ManifestDigest(ctx, "one", "latest")
			require.NoError(t, err)
			assert.Equal(t, d1, got)
			assert.Equal(t, tc.cold, srv.Counts(), "cold: the probe done at selection is reused")

			srv.ResetCounts()
			_, err = b.ManifestDigest(ctx, "one", "latest")
			require.NoError(t, err)
			assert.Equal(t, tc.steady, srv.Counts())

			srv.ResetCounts()
			got, err = b.ManifestDigest(ctx, "two", "latest")
			require.NoError(t, err)
			assert.Equal(t, d2, got)
			assert.Equal(t, tc.newRepo, srv.Counts())
		})
	}
}

func TestBasicWrongPasswordIsUnauthorized(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Basic, Users: map[string]string{user: pass}, Now: clock.Now})
	defer srv.Close()
	push(t, srv, "one")
	b := open(t, srv, clock, authn.Credential{Username: user, Password: "not-the-password"})
	_, err := b.ManifestDigest(context.Background(), "one", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "docker login")
	assert.NotContains(t, err.Error(), "not-the-password")
	assert.Equal(t, int64(1), srv.Counts().Head, "a credential refused as soon as it was resolved is wrong: no retry")
}

func twoPlatformIndex(t *testing.T) (v1.ImageIndex, map[string]string) {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	children := map[string]string{}
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		img, err := random.Image(64, 1)
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		children[p.String()] = d.String()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, children
}

func TestIndexAndPlatformDigests(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{user: pass}, Now: clock.Now})
	defer srv.Close()
	idx, children := twoPlatformIndex(t)
	h, err := srv.PushIndex("org/multi", "latest", idx)
	require.NoError(t, err)
	b := open(t, srv, clock, authn.Credential{Username: user, Password: pass})
	ctx := context.Background()

	d, err := b.ManifestDigest(ctx, "multi", "latest")
	require.NoError(t, err)
	assert.Equal(t, h.String(), d, "the index digest, as docker pull resolves")

	pr := b
	for _, p := range []string{"linux/amd64", "linux/arm64/v8", "linux/arm64"} {
		plat, err := registry.ParsePlatform(p)
		require.NoError(t, err)
		got, err := pr.PlatformDigest(ctx, "multi", "latest", plat)
		require.NoError(t, err, p)
		want := children[p]
		if p == "linux/arm64" {
			want = children["linux/arm64/v8"]
		}
		assert.Equal(t, want, got, p)
	}
	_, err = pr.PlatformDigest(ctx, "multi", "latest", registry.Platform{OS: "windows", Architecture: "amd64"})
	require.ErrorIs(t, err, registry.ErrNotFound)
	assert.Contains(t, err.Error(), "linux/amd64")

	// By digest: the digest is checked against what the registry serves.
	got, err := b.ManifestDigest(ctx, "multi", d)
	require.NoError(t, err)
	assert.Equal(t, d, got)

	// A single-platform image is its own platform digest.
	single := push(t, srv, "single")
	got, err = pr.PlatformDigest(ctx, "single", "latest", registry.Platform{OS: "linux", Architecture: "amd64"})
	require.NoError(t, err)
	assert.Equal(t, single, got)
}

func TestGETFallback(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter, r *http.Request) bool{
		"HEAD answers 405": func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return true
			}
			return false
		},
		"HEAD without Docker-Content-Digest": func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.WriteHeader(http.StatusOK)
				return true
			}
			return false
		},
		"HEAD with a malformed digest": func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
				w.Header().Set("Docker-Content-Digest", "sha256:NOTHEX")
				w.WriteHeader(http.StatusOK)
				return true
			}
			return false
		},
	}
	for name, intercept := range cases {
		t.Run(name, func(t *testing.T) {
			srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous, Intercept: intercept})
			defer srv.Close()
			want := push(t, srv, "one")
			b := open(t, srv, registrytest.NewClock(time.Now()), authn.Credential{})
			got, err := b.ManifestDigest(context.Background(), "one", "latest")
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, int64(1), srv.Counts().Get, "one GET fallback")
		})
	}
}

func TestGETFallbackRejectsMismatchedDigest(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous, Intercept: func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return true
			}
			// A well-formed OCI manifest whose bytes do not hash to the header.
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`))
			return true
		}
		return false
	}})
	defer srv.Close()
	b := open(t, srv, registrytest.NewClock(time.Now()), authn.Credential{})
	_, err := b.ManifestDigest(context.Background(), "one", "latest")
	require.ErrorIs(t, err, registry.ErrBadResponse, "never a wrong digest")
	assert.Contains(t, err.Error(), "but the manifest hashes to sha256:")
}

func TestNotFound(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous})
	defer srv.Close()
	b := open(t, srv, registrytest.NewClock(time.Now()), authn.Credential{})
	_, err := b.ManifestDigest(context.Background(), "missing", "latest")
	require.ErrorIs(t, err, registry.ErrNotFound)
	assert.Contains(t, err.Error(), srv.Host()+"/org/missing:latest")
}

// Platform mode spends no pulls in steady state: each tick HEADs the index,
// and GETs it only when its digest moved (Docker Hub counts a manifest GET
// as a pull and a HEAD as none).
func TestPlatformDigestGETsOnlyWhenTheIndexMoves(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{user: pass}, Now: clock.Now})
	defer srv.Close()
	idx, children := twoPlatformIndex(t)
	_, err := srv.PushIndex("org/multi", "latest", idx)
	require.NoError(t, err)
	b := open(t, srv, clock, authn.Credential{Username: user, Password: pass})
	pr := b
	amd := registry.Platform{OS: "linux", Architecture: "amd64"}
	srv.ResetCounts()
	for range 5 {
		got, err := pr.PlatformDigest(context.Background(), "multi", "latest", amd)
		require.NoError(t, err)
		assert.Equal(t, children["linux/amd64"], got)
	}
	c := srv.Counts()
	assert.Equal(t, int64(1), c.Get, "one GET, when the index is first seen")
	assert.Equal(t, int64(5), c.Head, "one HEAD per tick")

	idx2, children2 := twoPlatformIndex(t)
	_, err = srv.PushIndex("org/multi", "latest", idx2)
	require.NoError(t, err)
	srv.ResetCounts()
	got, err := pr.PlatformDigest(context.Background(), "multi", "latest", amd)
	require.NoError(t, err)
	assert.Equal(t, children2["linux/amd64"], got)
	assert.Equal(t, registrytest.Counts{Head: 1, Get: 1}, srv.Counts(), "the index moved: one GET")
}

// Harbor and Quay, as their sources answer, are served by the distribution
// driver: a probe, a token and a HEAD cold, one HEAD steady, and the token
// lives as long as the registry says (Harbor's expires_in of 1800 s, Quay's
// JWT exp of 3600 s).
func TestHarborAndQuay(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode registrytest.Mode
		user string
		life time.Duration
	}{
		{"harbor", registrytest.Harbor, "robot$ci", 30 * time.Minute},
		{"quay", registrytest.Quay, "org+puller", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := registrytest.NewClock(time.Now())
			srv := registrytest.NewServer(registrytest.Config{Mode: tc.mode, Users: map[string]string{tc.user: pass}, Now: clock.Now})
			defer srv.Close()
			want := push(t, srv, "app")
			b := open(t, srv, clock, authn.Credential{Username: tc.user, Password: pass})
			srv.ResetCounts()
			d, err := b.ManifestDigest(context.Background(), "app", "latest")
			require.NoError(t, err)
			assert.Equal(t, want, d)
			assert.Equal(t, registrytest.Counts{Token: 1, Head: 1}, srv.Counts(), "the probe came with Discover; then token + HEAD")

			srv.ResetCounts()
			steps := int(tc.life/(5*time.Minute)) - 2
			for range steps {
				clock.Advance(5 * time.Minute)
				_, err := b.ManifestDigest(context.Background(), "app", "latest")
				require.NoError(t, err)
			}
			c := srv.Counts()
			assert.Equal(t, int64(steps), c.Head)
			assert.LessOrEqual(t, c.Token, int64(1), "the token's stated lifetime is used")
			assert.Zero(t, c.Rejected)
		})
	}
}
