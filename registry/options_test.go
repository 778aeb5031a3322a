package registry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorMatching(t *testing.T) {
	var err error = &registry.Error{Kind: registry.ErrRateLimited, Op: "manifest digest", Image: "ghcr.io/x:latest",
		StatusCode: 429, Code: "TOOMANYREQUESTS", RetryAfter: 2 * time.Second, Hint: "slow down"}
	wrapped := errors.Join(errors.New("context"), err)
	assert.ErrorIs(t, wrapped, registry.ErrRateLimited)
	assert.NotErrorIs(t, wrapped, registry.ErrNotFound)
	var e *registry.Error
	require.ErrorAs(t, wrapped, &e)
	assert.Equal(t, 2*time.Second, e.RetryAfter)
	assert.Equal(t, "manifest digest ghcr.io/x:latest: rate limited (HTTP 429 TOOMANYREQUESTS); retry after 2s; slow down", err.Error())

	cause := errors.New("dial tcp: refused")
	e = &registry.Error{Kind: registry.ErrUnavailable, Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.Equal(t, "registry unavailable: dial tcp: refused", e.Error())
}

func TestOptions(t *testing.T) {
	o := &registry.Options{Env: registry.EnvMap(map[string]string{"A": " x ", "B": "  "}),
		InsecureHosts: []string{"Reg.Example:5000"}}
	assert.Equal(t, registry.DefaultRequestTimeout, o.Timeout())
	v, ok := o.LookupEnv("A")
	assert.True(t, ok)
	assert.Equal(t, "x", v)
	_, ok = o.LookupEnv("B")
	assert.False(t, ok, "blank is unset")
	_, ok = o.LookupEnv("C")
	assert.False(t, ok)
	assert.True(t, o.AllowsInsecure("reg.example:5000"))
	assert.Equal(t, 3, o.Tries())
	assert.NotNil(t, o.Log())
	assert.WithinDuration(t, time.Now(), o.Now().Now(), time.Minute, "the system clock")
	_, ok = (&registry.Options{}).LookupEnv("PATH")
	assert.True(t, ok, "the zero Env is the process environment")
	_, ok = (&registry.Options{Env: registry.EnvMap(nil)}).LookupEnv("PATH")
	assert.False(t, ok, "EnvMap(nil) has no variables")
}

func TestEnv(t *testing.T) {
	m := map[string]string{"A": " x ", "B": " ", "MOLECULE_IMAGE_REGISTRY": "git.example.com:3000/org"}
	env := registry.EnvMap(m)
	m["A"] = "changed"
	assert.Equal(t, "x", env.Get("A"), "EnvMap copies its map")
	_, ok := env.Lookup("B")
	assert.False(t, ok)
	assert.False(t, env.IsProcess())
	assert.True(t, registry.Env{}.IsProcess())

	over := registry.Env{}.With(map[string]string{"MOLECULE_IMAGE_REGISTRY": "reg.example/x", "HOME": ""})
	assert.True(t, over.IsProcess(), "an overlay of the process environment stays one")
	assert.Equal(t, "reg.example/x", over.Get("MOLECULE_IMAGE_REGISTRY"))
	_, ok = over.Lookup("HOME")
	assert.False(t, ok, "an empty override unsets")
	assert.Equal(t, "x", env.With(map[string]string{"Z": "1"}).Get("A"))

	p, err := env.Prefix()
	require.NoError(t, err)
	assert.Equal(t, "git.example.com:3000/org", p.String())
	assert.Equal(t, "git.example.com:3000", (&registry.Options{Env: env}).ConfiguredHost())
	p, err = registry.EnvMap(nil).Prefix()
	require.NoError(t, err)
	assert.Equal(t, registry.DefaultPrefix, p.String(), "the default, as the backend uses it")
	_, err = registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY": "https://x"}).Prefix()
	require.ErrorIs(t, err, registry.ErrInvalidConfig)

	f, err := registry.EnvMap(map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "Gitea"}).Flavor()
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, f)
}

// A nil logger discards, as no logger does.
func TestNilLoggerDiscards(t *testing.T) {
	for _, o := range []*registry.Options{{Logger: nil}, {}} {
		log := o.Log()
		require.NotNil(t, log)
		assert.NotPanics(t, func() { log.Info("discarded") })
	}
}
