package registrytest_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	amd64 = registry.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = registry.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

// TestBackendIdentity checks Host, Prefix and Flavor.
func TestBackendIdentity(t *testing.T) {
	for _, tc := range []struct{ prefix, host, want string }{
		{"reg.example/org", "reg.example", "reg.example/org"},
		{"127.0.0.1:5000/org/team", "127.0.0.1:5000", "127.0.0.1:5000/org/team"},
		{"reg.example", "reg.example", "reg.example"},
	} {
		b := registrytest.NewBackend(tc.prefix)
		assert.Equal(t, tc.host, b.Host(), tc.prefix)
		assert.Equal(t, tc.want, b.Prefix(), tc.prefix)
	}
	assert.Panics(t, func() { registrytest.NewBackend("https://reg.example/org") }, "an invalid prefix panics")

	b := registrytest.NewBackend("reg.example/org")
	assert.Equal(t, registry.FlavorDistribution, b.Flavor(), "distribution by default")
	b.SetFlavor(registry.FlavorGHCR)
	assert.Equal(t, registry.FlavorGHCR, b.Flavor())
}

// TestBackendNotFound checks that references never set are not found.
func TestBackendNotFound(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	b.SetDigest("app", "latest", registrytest.Digest("app"))
	ctx := context.Background()
	for _, tc := range []struct{ repo, ref, image string }{
		{"other", "latest", "reg.example/org/other:latest"},
		{"app", "v2", "reg.example/org/app:v2"},
		// A digest is a reference of its own.
		{"app", registrytest.Digest("app"), "reg.example/org/app@" + registrytest.Digest("app")},
	} {
		_, err := b.ManifestDigest(ctx, tc.repo, tc.ref)
		require.ErrorIs(t, err, registry.ErrNotFound, tc)
		var re *registry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, tc.image, re.Image, "the error names the image")

		_, err = b.PlatformDigest(ctx, tc.repo, tc.ref, amd64)
		assert.ErrorIs(t, err, registry.ErrNotFound, tc)
	}
	d, err := b.ManifestDigest(ctx, "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("app"), d)
}

// TestBackendSetDigest checks that each reference points at its own digest.
func TestBackendSetDigest(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	ctx := context.Background()
	b.SetDigest("app", "latest", registrytest.Digest("1"))
	b.SetDigest("app", "stable", registrytest.Digest("2"))
	b.SetDigest("app", "latest", registrytest.Digest("3")) // moves the tag
	for ref, want := range map[string]string{"latest": registrytest.Digest("3"), "stable": registrytest.Digest("2")} {
		d, err := b.ManifestDigest(ctx, "app", ref)
		require.NoError(t, err)
		assert.Equal(t, want, d, ref)
	}
}

// TestBackendSetError checks that SetError fails every request for the
// reference until SetDigest.
func TestBackendSetError(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	ctx := context.Background()
	b.SetDigest("app", "latest", registrytest.Digest("1"))
	b.SetDigest("app", "stable", registrytest.Digest("2"))
	b.SetPlatformDigest("app", "latest", arm64, registrytest.Digest("1 arm64"))
	limited := &registry.Error{Kind: registry.ErrRateLimited, StatusCode: http.StatusTooManyRequests}
	b.SetError("app", "latest", limited)

	_, err := b.ManifestDigest(ctx, "app", "latest")
	assert.ErrorIs(t, err, registry.ErrRateLimited)
	assert.Same(t, limited, err, "the error set, as is")
	for _, p := range []registry.Platform{amd64, arm64} {
		_, err = b.PlatformDigest(ctx, "app", "latest", p)
		assert.ErrorIs(t, err, registry.ErrRateLimited, "every request fails, even with a platform override: %s", p)
	}
	d, err := b.ManifestDigest(ctx, "app", "stable")
	require.NoError(t, err, "other references are unaffected")
	assert.Equal(t, registrytest.Digest("2"), d)

	b.SetError("never-set", "latest", limited)
	_, err = b.ManifestDigest(ctx, "never-set", "latest")
	assert.ErrorIs(t, err, registry.ErrRateLimited, "an error needs no digest")

	b.SetDigest("app", "latest", registrytest.Digest("4"))
	d, err = b.ManifestDigest(ctx, "app", "latest")
	require.NoError(t, err, "SetDigest clears the error")
	assert.Equal(t, registrytest.Digest("4"), d)
}

// TestBackendPlatformDigest checks the per-platform override.
func TestBackendPlatformDigest(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	ctx := context.Background()
	b.SetDigest("app", "latest", registrytest.Digest("index"))

	d, err := b.PlatformDigest(ctx, "app", "latest", amd64)
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("index"), d, "every platform sees the reference's digest by default")

	b.SetPlatformDigest("app", "latest", arm64, registrytest.Digest("arm64"))
	d, err = b.PlatformDigest(ctx, "app", "latest", arm64)
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("arm64"), d, "the override")
	d, err = b.PlatformDigest(ctx, "app", "latest", amd64)
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("index"), d, "other platforms keep the reference's digest")
	d, err = b.ManifestDigest(ctx, "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("index"), d, "ManifestDigest is the index's digest")

	b.SetDigest("app", "latest", registrytest.Digest("index 2"))
	d, err = b.PlatformDigest(ctx, "app", "latest", arm64)
	require.NoError(t, err)
	assert.Equal(t, registrytest.Digest("arm64"), d, "a new index with the same arm64 manifest")
}

// TestBackendCalls checks that Calls counts the digest lookups answered.
func TestBackendCalls(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	ctx := context.Background()
	b.SetDigest("app", "latest", registrytest.Digest("1"))
	assert.Zero(t, b.Calls())

	_, _ = b.ManifestDigest(ctx, "app", "latest")
	_, _ = b.ManifestDigest(ctx, "missing", "latest") // failures count too
	_, _ = b.PlatformDigest(ctx, "app", "latest", amd64)
	_, _ = b.Token(ctx, "app") // not a digest lookup
	_, _ = b.Credential(ctx)   // nor this
	assert.Equal(t, 3, b.Calls())

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := b.ManifestDigest(canceled, "app", "latest")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = b.PlatformDigest(canceled, "app", "latest", amd64)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, b.Calls(), "a call with an ended context is not answered")

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = b.ManifestDigest(ctx, "app", "latest")
			b.SetDigest("app", "latest", registrytest.Digest("2"))
		}()
	}
	wg.Wait()
	assert.Equal(t, 53, b.Calls(), "safe for concurrent use")
}

// TestBackendToken checks the anonymous and the Basic token.
func TestBackendToken(t *testing.T) {
	ctx := context.Background()
	b := registrytest.NewBackend("reg.example/org")

	c, err := b.Credential(ctx)
	require.NoError(t, err)
	assert.True(t, c.IsAnonymous(), "anonymous by default")
	tok, err := b.Token(ctx, "app")
	require.NoError(t, err)
	assert.Empty(t, tok.AccessToken, "anonymous: an empty token")
	req, _ := http.NewRequest(http.MethodHead, "http://reg.example/v2/org/app/manifests/latest", nil)
	assert.Empty(t, req.Header.Get("Authorization"), "which sends no header")

	cred := authn.Credential{Username: "octocat", Password: "s3cret"}
	b.SetCredential(cred)
	c, err = b.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, cred, c)
	tok, err = b.Token(ctx, "app")
	require.NoError(t, err)
	assert.Equal(t, "Basic", tok.TokenType)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("octocat:s3cret")), tok.AccessToken)
	tok.SetAuthHeader(req)
	user, pass, ok := req.BasicAuth()
	require.True(t, ok, "a Basic token of the credential")
	assert.Equal(t, "octocat", user)
	assert.Equal(t, "s3cret", pass)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.Token(canceled, "app")
	assert.ErrorIs(t, err, context.Canceled)
}

// TestDigest checks the format and determinism of Digest.
func TestDigest(t *testing.T) {
	format := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	seen := map[string]string{}
	for _, s := range []string{"", "a", "b", "langgraph v1", "langgraph v2"} {
		d := registrytest.Digest(s)
		assert.Regexp(t, format, d, s)
		assert.Equal(t, d, registrytest.Digest(s), "deterministic")
		if other, dup := seen[d]; dup {
			t.Errorf("Digest(%q) == Digest(%q)", s, other)
		}
		seen[d] = s
	}
	assert.Equal(t, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", registrytest.Digest(""), "the SHA-256 of s")
}
