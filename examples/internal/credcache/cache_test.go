//go:build unix

package credcache_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/credcache"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const host = "123456789012.dkr.ecr.us-east-2.amazonaws.com"

func newCache(t *testing.T) (*credcache.Cache, *registrytest.Clock) {
	t.Helper()
	clock := registrytest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return credcache.New(filepath.Join(t.TempDir(), "cache", "registrykit"), clock.Now), clock
}

func entry(clock *registrytest.Clock, life time.Duration) credcache.Entry {
	return credcache.Entry{Registry: host, Username: "AWS", Password: "ecr-password", Expires: clock.Now().Add(life)}
}

func TestHonouredUntilTheMarginBeforeExpiry(t *testing.T) {
	c, clock := newCache(t)
	require.NoError(t, c.Put("access-key:AKID", entry(clock, 12*time.Hour)))

	got, ok := c.Get(host, "access-key:AKID")
	require.True(t, ok)
	assert.Equal(t, "ecr-password", got.Password)
	assert.True(t, got.Expires.Equal(clock.Now().Add(12*time.Hour)))

	_, ok = c.Get(host, "access-key:OTHER")
	assert.False(t, ok, "another identity gets nothing")
	_, ok = c.Get("210987654321.dkr.ecr.us-east-2.amazonaws.com", "access-key:AKID")
	assert.False(t, ok, "another registry gets nothing")

	clock.Advance(12*time.Hour - credcache.Margin - time.Second)
	_, ok = c.Get(host, "access-key:AKID")
	assert.True(t, ok, "still good for more than the margin")
	clock.Advance(time.Second)
	_, ok = c.Get(host, "access-key:AKID")
	assert.False(t, ok, "within the margin of expiry: a miss")
}

func TestPermissionsAndAtomicWrite(t *testing.T) {
	c, clock := newCache(t)
	const identity = "profile:team-prod"
	require.NoError(t, c.Put(identity, entry(clock, time.Hour)))
	require.NoError(t, c.Put(identity, entry(clock, 2*time.Hour)), "a second write replaces the first")

	fi, err := os.Stat(c.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	files, err := os.ReadDir(c.Path())
	require.NoError(t, err)
	require.Len(t, files, 1, "one file per (registry, identity), no temporary file left")
	assert.False(t, strings.HasPrefix(files[0].Name(), ".tmp"))
	info, err := files[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	data, err := os.ReadFile(filepath.Join(c.Path(), files[0].Name()))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "team-prod", "the identity is not spelled out")
	assert.NotContains(t, files[0].Name(), host)
}

func TestUnsafeFilesAreRefused(t *testing.T) {
	c, clock := newCache(t)
	require.NoError(t, c.Put("id", entry(clock, time.Hour)))
	files, _ := filepath.Glob(filepath.Join(c.Path(), "*.json"))
	require.Len(t, files, 1)

	require.NoError(t, os.Chmod(files[0], 0o644))
	_, ok := c.Get(host, "id")
	assert.False(t, ok, "a group/other-readable file is not read")
	assert.Empty(t, c.List("id"))

	require.NoError(t, c.Put("id", entry(clock, time.Hour)))
	fi, err := os.Stat(files[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "rewritten private")
	_, ok = c.Get(host, "id")
	assert.True(t, ok)

	require.NoError(t, os.Chmod(c.Path(), 0o755))
	_, ok = c.Get(host, "id")
	assert.False(t, ok, "a directory others may enter is not trusted")
	require.NoError(t, c.Put("id", entry(clock, time.Hour)))
	fi, err = os.Stat(c.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "tightened on the next write")

	// A symbolic link in place of the file is not followed.
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(target, data, 0o600))
	require.NoError(t, os.Remove(files[0]))
	require.NoError(t, os.Symlink(target, files[0]))
	_, ok = c.Get(host, "id")
	assert.False(t, ok)

	// Corrupt content is a miss.
	require.NoError(t, os.Remove(files[0]))
	require.NoError(t, os.WriteFile(files[0], []byte("{not json"), 0o600))
	_, ok = c.Get(host, "id")
	assert.False(t, ok)
}

func TestOnlyShortLivedCredentials(t *testing.T) {
	c, clock := newCache(t)
	pat := credcache.Entry{Registry: "ghcr.io", Username: "octocat", Password: "ghp_personalaccesstoken"}
	require.ErrorIs(t, c.Put("id", pat), credcache.ErrNotShortLived, "no expiry: a static secret")
	pat.Expires = clock.Now().Add(credcache.MaxLifetime + time.Minute)
	require.ErrorIs(t, c.Put("id", pat), credcache.ErrNotShortLived, "longer than a day")
	require.Error(t, c.Put("id", entry(clock, credcache.Margin)), "already within the margin")
	require.Error(t, c.Put("id", credcache.Entry{Registry: host, Expires: clock.Now().Add(time.Hour)}), "no password")
	_, err := os.Stat(c.Path())
	assert.True(t, os.IsNotExist(err), "nothing was written")
}

func TestListAndDelete(t *testing.T) {
	c, clock := newCache(t)
	other := "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
	require.NoError(t, c.Put("id", entry(clock, time.Hour)))
	e := entry(clock, 2*time.Hour)
	e.Registry = other
	require.NoError(t, c.Put("id", e))
	require.NoError(t, c.Put("someone-else", entry(clock, time.Hour)))

	got := map[string]string{}
	for _, e := range c.List("id") {
		got[e.Registry] = e.Username
	}
	assert.Equal(t, map[string]string{host: "AWS", other: "AWS"}, got)

	require.NoError(t, c.Delete(host, "id"))
	require.NoError(t, c.Delete(host, "id"), "deleting nothing is fine")
	assert.Len(t, c.List("id"), 1)
	_, ok := c.Get(host, "someone-else")
	assert.True(t, ok, "another identity's entry is untouched")
}

func TestDir(t *testing.T) {
	d, ok := credcache.Dir(registry.EnvMap(map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}))
	assert.True(t, ok)
	assert.Equal(t, filepath.FromSlash("/x/cache/registrykit"), d)
	d, ok = credcache.Dir(registry.EnvMap(map[string]string{"HOME": "/home/u"}))
	assert.True(t, ok)
	assert.Equal(t, filepath.FromSlash("/home/u/.cache/registrykit"), d)
	_, ok = credcache.Dir(registry.EnvMap(map[string]string{"XDG_CACHE_HOME": "relative"}))
	assert.False(t, ok, "a relative XDG_CACHE_HOME is ignored (the XDG spec), and there is no HOME")
	assert.Nil(t, credcache.FromEnv(registry.EnvMap(nil), nil))
}

// A FIFO planted at an entry's path is a miss, at once: opening it for
// reading would otherwise block until a writer came.
func TestFIFOAtAnEntryIsAMiss(t *testing.T) {
	c, clock := newCache(t)
	require.NoError(t, c.Put("id", entry(clock, time.Hour)))
	files, _ := filepath.Glob(filepath.Join(c.Path(), "*.json"))
	require.Len(t, files, 1)
	require.NoError(t, os.Remove(files[0]))
	require.NoError(t, syscall.Mkfifo(files[0], 0o600))
	t.Cleanup(func() {
		// Should a lookup be blocked in open, a writer releases it.
		if w, err := os.OpenFile(files[0], os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = w.Close()
		}
	})

	type result struct {
		ok   bool
		list int
	}
	done := make(chan result, 1)
	go func() {
		_, ok := c.Get(host, "id")
		done <- result{ok: ok, list: len(c.List("id"))}
	}()
	select {
	case r := <-done:
		assert.False(t, r.ok, "a FIFO is not an entry")
		assert.Zero(t, r.list, "nor listed")
	case <-time.After(5 * time.Second):
		t.Fatal("the lookup blocked on a FIFO at the entry's path")
	}
}
