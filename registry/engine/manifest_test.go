package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The platforms of an index enter the "no platform matches" error only
// through the sanitiser and its bound: a 3 MiB index whose platforms carry
// escape sequences, newlines (forged log lines) and U+202E yields a short,
// printable error (issue 22, item 5).
func TestPlatformMismatchErrorIsSanitizedAndBounded(t *testing.T) {
	var entries []string
	for i, size := 0, 0; size < 3<<20; i++ {
		entries = append(entries, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":1,`+
			`"platform":{"os":"linux\u001b[31m\nlevel=ERROR msg=forged %d","architecture":"amd\u202e64"}}`, i, i))
		size += len(entries[i]) + 1
	}
	// The OCI image index (opencontainers/image-spec image-index.md).
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `]}`)
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return // an open registry
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		w.Header().Set("Docker-Content-Digest", digest)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	}))
	defer srv.Close()
	b, err := Open(registry.MustParsePrefix(strings.TrimPrefix(srv.URL, "http://")+"/org"), []Spec{{Flavor: registry.FlavorDistribution, Fallback: true}}, nil)
	require.NoError(t, err)
	_, err = b.PlatformDigest(context.Background(), "app", "latest", registry.Platform{OS: "windows", Architecture: "arm"})
	require.ErrorIs(t, err, registry.ErrNotFound)
	msg := err.Error()
	require.Less(t, len(msg), 1000, "bounded")
	assert.NotContains(t, msg, "\x1b")
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, "\u202e")
	assert.Contains(t, msg, "linux")
}

func TestParsePullLimit(t *testing.T) {
	for _, tc := range []struct {
		limit, remaining string
		want             pullLimit
		ok               bool
	}{
		{"100;w=21600", "76;w=21600", pullLimit{100, 76, 6 * time.Hour}, true},
		{"200", "0", pullLimit{200, 0, 0}, true},
		{" 100 ; w=21600 ", "5;w=21600", pullLimit{100, 5, 6 * time.Hour}, true},
		{"100;w=x", "5", pullLimit{100, 5, 0}, true},
		{"", "5", pullLimit{}, false},
		{"0;w=21600", "0;w=21600", pullLimit{}, false},
		{"-1", "5", pullLimit{}, false},
		{"100", "", pullLimit{}, false},
		{"many", "5", pullLimit{}, false},
	} {
		h := http.Header{}
		h.Set("ratelimit-limit", tc.limit)
		h.Set("ratelimit-remaining", tc.remaining)
		got, ok := parsePullLimit(h)
		assert.Equal(t, tc.ok, ok, "%q %q", tc.limit, tc.remaining)
		assert.Equal(t, tc.want, got, "%q %q", tc.limit, tc.remaining)
	}
}
