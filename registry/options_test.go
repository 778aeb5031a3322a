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
	d, ok := registry.RetryAfter(wrapped)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, d)
	assert.Equal(t, "manifest digest ghcr.io/x:latest: rate limited (HTTP 429 TOOMANYREQUESTS); retry after 2s; slow down", err.Error())
	_, ok = registry.RetryAfter(errors.New("x"))
	assert.False(t, ok)

	cause := errors.New("dial tcp: refused")
	e := &registry.Error{Kind: registry.ErrUnavailable, Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.Equal(t, "registry unavailable: dial tcp: refused", e.Error())
}

func TestOptions(t *testing.T) {
	type key struct{}
	o := registry.NewOptions(registry.WithDriverOption(registry.FlavorGHCR, key{}, 42), registry.WithEnvMap(map[string]string{"A": " x ", "B": "  "}),
		registry.WithInsecureHosts("Reg.Example:5000"), nil)
	assert.Equal(t, 42, o.DriverOption(registry.FlavorGHCR, key{}))
	assert.Nil(t, o.DriverOption(registry.FlavorECR, key{}))
	assert.Equal(t, registry.DefaultRequestTimeout, o.Timeout())
	v, ok := o.Env("A")
	assert.True(t, ok)
	assert.Equal(t, "x", v)
	_, ok = o.Env("B")
	assert.False(t, ok, "blank is unset")
	_, ok = o.Env("C")
	assert.False(t, ok)
	assert.True(t, o.AllowsInsecure("reg.example:5000"))
	assert.Equal(t, 3, o.Tries())
	assert.NotNil(t, o.Log())
	assert.WithinDuration(t, time.Now(), o.Now().Now(), time.Minute, "the system clock")
	_, ok = registry.NewOptions().Env("PATH")
	assert.False(t, ok, "the zero Env has no variables")
}

func TestEnv(t *testing.T) {
	m := map[string]string{"A": " x ", "B": " ", registry.EnvRegistry: "git.example.com:3000/org"}
	env := registry.EnvMap(m)
	m["A"] = "changed"
	assert.Equal(t, "x", env.Get("A"), "EnvMap copies its map")
	_, ok := env.Lookup("B")
	assert.False(t, ok)
	assert.False(t, env.IsProcess())
	assert.True(t, registry.ProcessEnv().IsProcess())

	over := registry.ProcessEnv().With(map[string]string{registry.EnvRegistry: "reg.example/x", "HOME": ""})
	assert.True(t, over.IsProcess(), "an overlay of the process environment stays one")
	assert.Equal(t, "reg.example/x", over.Get(registry.EnvRegistry))
	_, ok = over.Lookup("HOME")
	assert.False(t, ok, "an empty override unsets")
	assert.Equal(t, "x", env.With(map[string]string{"Z": "1"}).Get("A"))

	p, err := registry.PrefixFromEnv(env)
	require.NoError(t, err)
	assert.Equal(t, "git.example.com:3000/org", p.String())
	assert.Equal(t, "git.example.com:3000", registry.NewOptions(registry.WithEnv(env)).ConfiguredHost())
	p, err = registry.PrefixFromEnv(registry.Env{})
	require.NoError(t, err)
	assert.Equal(t, registry.DefaultPrefix, p.String(), "the default, as the backend uses it")
	_, err = registry.PrefixFromEnv(registry.EnvMap(map[string]string{registry.EnvRegistry: "https://x"}))
	require.ErrorIs(t, err, registry.ErrInvalidConfig)

	f, err := registry.FlavorFromEnv(registry.EnvMap(map[string]string{registry.EnvFlavor: "Gitea"}))
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGitea, f)
}

// A nil logger discards, as no logger does.
func TestWithLoggerNilDiscards(t *testing.T) {
	for name, opts := range map[string][]registry.Option{
		"nil logger": {registry.WithLogger(nil)},
		"no logger":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			log := registry.NewOptions(opts...).Log()
			require.NotNil(t, log)
			assert.NotPanics(t, func() { log.Info("discarded") })
		})
	}
}
