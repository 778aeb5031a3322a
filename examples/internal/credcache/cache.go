// Package credcache keeps short-lived registry credentials (ECR passwords,
// ECR Public passwords) in files, so that programs run once per request — a
// Docker credential helper, a kubelet credential provider — fetch a
// credential once per its life rather than once per run.
//
// One file per (registry, identity), named by a hash of the two, in a
// directory only its owner can enter (0700); each file is written to a
// temporary file and renamed into place, is readable by its owner only
// (0600), and is refused — treated as absent — when it is not: group or
// other permission bits, another owner, anything but a regular file (a
// symbolic link is not followed, and a FIFO is not opened, so it cannot
// block a lookup). An entry is honoured until [Margin] before it expires.
//
// Only short-lived credentials are accepted: [Cache.Put] refuses an entry
// without an expiry or one living longer than [MaxLifetime], so a personal
// access token or any other static secret can never land in the cache.
package credcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// Margin is how long before its expiry an entry stops being honoured: a
// credential handed out now must still be good for the pull it is for.
const Margin = 15 * time.Minute

// MaxLifetime is the longest life an entry may have. ECR's passwords live
// 12 hours; anything longer is not a short-lived credential.
const MaxLifetime = 24 * time.Hour

// maxFile bounds what is read from a cache file.
const maxFile = 64 << 10

// Entry is one cached credential.
type Entry struct {
	// Registry is the registry host the credential is for ("host[:port]").
	Registry string `json:"registry"`
	// Username and Password are what a Docker client presents.
	Username string `json:"username"`
	Password string `json:"password"`
	// Expires is when the registry stops accepting the credential.
	Expires time.Time `json:"expires"`
}

// Cache is a directory of cache files. The zero Cache is not usable; use
// [New] or [FromEnv].
type Cache struct {
	dir string
	now func() time.Time
}

// New returns a cache in dir (created on the first Put), reading the time
// from now (time.Now when nil).
func New(dir string, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{dir: dir, now: now}
}

// Dir returns the cache directory env names: $XDG_CACHE_HOME/registrykit,
// else $HOME/.cache/registrykit; false when env has neither (a service
// started without a home directory simply runs without a file cache).
func Dir(env registry.Env) (string, bool) {
	if d := env.Get("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "registrykit"), true
	}
	if h := env.Get("HOME"); h != "" && filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "registrykit"), true
	}
	return "", false
}

// FromEnv returns the cache in [Dir], or nil when env names no directory.
func FromEnv(env registry.Env, now func() time.Time) *Cache {
	dir, ok := Dir(env)
	if !ok {
		return nil
	}
	return New(dir, now)
}

// Path is the directory of the cache.
func (c *Cache) Path() string { return c.dir }

// file is the path of the entry for (registryHost, identity). The name is a
// hash, so that neither the identity nor the host needs to be a valid file
// name, and the identity is not spelled out on disk.
func (c *Cache) file(registryHost, identity string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(registryHost) + "\x00" + identity))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".json")
}

// Get returns the entry for (registryHost, identity) when there is one that
// is valid for at least [Margin] more, and whose file and directory are
// private to this user. Anything else — no file, an unreadable, unsafe,
// corrupt or stale one — is a miss.
func (c *Cache) Get(registryHost, identity string) (Entry, bool) {
	if checkDir(c.dir) != nil {
		return Entry{}, false
	}
	e, err := readEntry(c.file(registryHost, identity))
	if err != nil || !strings.EqualFold(e.Registry, registryHost) || !c.fresh(e) {
		return Entry{}, false
	}
	return e, true
}

// fresh reports whether e is still good for at least Margin.
func (c *Cache) fresh(e Entry) bool {
	return e.Password != "" && c.now().Add(Margin).Before(e.Expires)
}

// ErrNotShortLived is returned by Put for an entry that is not a
// short-lived credential.
var ErrNotShortLived = errors.New("not a short-lived credential")

// Put stores e for identity, replacing any earlier entry atomically. It
// refuses an entry without a password, without an expiry, living longer
// than [MaxLifetime], or already within [Margin] of its expiry (which would
// never be read back).
func (c *Cache) Put(identity string, e Entry) error {
	now := c.now()
	switch {
	case e.Registry == "" || e.Password == "":
		return fmt.Errorf("credential cache: entry for %q has no registry or password", e.Registry)
	case e.Expires.IsZero() || e.Expires.After(now.Add(MaxLifetime)):
		return fmt.Errorf("credential cache: %s: %w (expiry %s)", e.Registry, ErrNotShortLived, e.Expires.Format(time.RFC3339))
	case !c.fresh(e):
		return fmt.Errorf("credential cache: %s: expires at %s, within %s", e.Registry, e.Expires.Format(time.RFC3339), Margin)
	}
	if err := c.ensureDir(); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("credential cache: %w", err)
	}
	return writeAtomic(c.dir, c.file(e.Registry, identity), data)
}

// Delete removes the entry for (registryHost, identity); a missing entry is
// not an error.
func (c *Cache) Delete(registryHost, identity string) error {
	err := os.Remove(c.file(registryHost, identity))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("credential cache: %w", err)
	}
	return nil
}

// List returns the valid entries of identity, in no particular order.
func (c *Cache) List(identity string) []Entry {
	if checkDir(c.dir) != nil {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(c.dir, "*.json"))
	if err != nil {
		return nil
	}
	var out []Entry
	for _, name := range names {
		e, err := readEntry(name)
		if err != nil || c.file(e.Registry, identity) != name || !c.fresh(e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ensureDir creates the directory (0700), tightens its permissions if it is
// this user's and looser, and refuses it if it belongs to someone else.
func (c *Cache) ensureDir() error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("credential cache: %w", err)
	}
	fi, err := os.Lstat(c.dir)
	if err != nil {
		return fmt.Errorf("credential cache: %w", err)
	}
	if err := owned(fi); err != nil || !fi.IsDir() {
		return fmt.Errorf("credential cache: %s is not a directory of this user; remove it", c.dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.dir, 0o700); err != nil {
			return fmt.Errorf("credential cache: %w", err)
		}
	}
	return nil
}

// checkDir reports whether dir is a directory of this user that nobody else
// may enter.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := owned(fi); err != nil {
		return err
	}
	return private(fi)
}

// readEntry reads a cache file, refusing one that is not a private regular
// file of this user. Anything else at the path — a symbolic link, a FIFO, a
// device — is refused before it is opened (Lstat), and the open neither
// follows a link nor blocks (O_NOFOLLOW|O_NONBLOCK on unix) in case it was
// swapped in between; the open file is checked again.
func readEntry(name string) (Entry, error) {
	lfi, err := os.Lstat(name)
	if err != nil {
		return Entry{}, err
	}
	if !lfi.Mode().IsRegular() {
		return Entry{}, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.OpenFile(name, os.O_RDONLY|noFollow|nonBlock, 0)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Entry{}, err
	}
	if !fi.Mode().IsRegular() {
		return Entry{}, fmt.Errorf("%s is not a regular file", name)
	}
	if err := owned(fi); err != nil {
		return Entry{}, err
	}
	if err := private(fi); err != nil {
		return Entry{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// writeAtomic writes data to name through a temporary file in dir, created
// 0600, synced and renamed over name: a reader sees the old file or the new
// one, never a part.
func writeAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("credential cache: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			err = fmt.Errorf("credential cache: %w", err)
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
