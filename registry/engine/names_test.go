package engine

import (
	"regexp"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
)

func TestNames(t *testing.T) {
	sha := "sha256:" + strings.Repeat("a", 64)
	for _, ok := range []string{sha, "sha512:" + strings.Repeat("0", 128)} {
		assert.True(t, isDigest(ok), ok)
		assert.NoError(t, checkRef(ok), ok)
	}
	for _, bad := range []string{"sha256:" + strings.Repeat("A", 64), "sha256:abc", "md5:" + strings.Repeat("a", 32), "sha256:" + strings.Repeat("a", 65)} {
		assert.False(t, isDigest(bad), bad)
		assert.ErrorIs(t, checkRef(bad), registry.ErrInvalidConfig, bad)
	}
	for _, ok := range []string{"latest", "v1.2.3", "_x", "A-b.c_d", strings.Repeat("t", 128)} {
		assert.NoError(t, checkRef(ok), ok)
	}
	for _, bad := range []string{"", ".x", "-x", "a b", "a/b", strings.Repeat("t", 129)} {
		assert.ErrorIs(t, checkRef(bad), registry.ErrInvalidConfig, bad)
	}
	for _, ok := range []string{"a", "org/workspace-template-langgraph", "a/b/c", "a__b", "a.b-c"} {
		assert.NoError(t, checkRepo(ok), ok)
	}
	for _, bad := range []string{"", "A", "a//b", "/a", "a/", "a..b", "-a", "a b"} {
		err := checkRepo(bad)
		assert.ErrorIs(t, err, registry.ErrInvalidConfig, bad)
	}
}

// FuzzReferenceScanners checks IsDigest and isTag against the grammar's
// regular expressions.
func FuzzReferenceScanners(f *testing.F) {
	for _, s := range []string{"latest", "sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("f", 128), ".x", "-x", "v1.2", "sha256:ABC", strings.Repeat("t", 129)} {
		f.Add(s)
	}
	digest := regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	tag := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isDigest(s), digest.MatchString(s); got != want {
			t.Fatalf("IsDigest(%q) = %v, the grammar says %v", s, got, want)
		}
		if got, want := isTag(s), tag.MatchString(s); got != want {
			t.Fatalf("isTag(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}
