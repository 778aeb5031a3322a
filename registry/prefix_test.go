package registry_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePrefix(t *testing.T) {
	good := []struct {
		in, host, path, str string
	}{
		// The three values the original code saw.
		{"", "ghcr.io", "molecule-ai", "ghcr.io/molecule-ai"},
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", "123456789012.dkr.ecr.us-east-2.amazonaws.com", "molecule-ai", ""},
		{"git.example.com/molecule-ai", "git.example.com", "molecule-ai", ""},
		// Defaults and trimming.
		{"   ", "ghcr.io", "molecule-ai", "ghcr.io/molecule-ai"},
		{"\tghcr.io/molecule-ai\n", "ghcr.io", "molecule-ai", "ghcr.io/molecule-ai"},
		{"ghcr.io/molecule-ai/", "ghcr.io", "molecule-ai", "ghcr.io/molecule-ai"},
		// Bare hosts.
		{"ghcr.io", "ghcr.io", "", "ghcr.io"},
		{"ghcr.io/", "ghcr.io", "", "ghcr.io"},
		{"localhost", "localhost", "", "localhost"},
		{"localhost:5000", "localhost:5000", "", "localhost:5000"},
		{"registry:5000/team", "registry:5000", "team", ""},
		// Case-insensitive host.
		{"GHCR.IO/molecule-ai", "ghcr.io", "molecule-ai", "ghcr.io/molecule-ai"},
		{"Git.Example.COM:3000/org", "git.example.com:3000", "org", "git.example.com:3000/org"},
		// IP addresses and ports.
		{"127.0.0.1:5000/molecule-ai", "127.0.0.1:5000", "molecule-ai", ""},
		{"10.0.0.7/org", "10.0.0.7", "org", ""},
		{"[::1]:5000/org", "[::1]:5000", "org", ""},
		{"[2001:db8::1]/org", "[2001:db8::1]", "org", ""},
		{"[2001:DB8:0::1]:443", "[2001:db8::1]:443", "", "[2001:db8::1]:443"},
		{"host.example:1", "host.example:1", "", ""},
		{"host.example:65535/a", "host.example:65535", "a", ""},
		{"host.example:05000/a", "host.example:5000", "a", "host.example:5000/a"},
		// Paths.
		{"ghcr.io/org/team/sub", "ghcr.io", "org/team/sub", ""},
		{"ghcr.io/my-org", "ghcr.io", "my-org", ""},
		{"ghcr.io/my--org", "ghcr.io", "my--org", ""},
		{"ghcr.io/my_org", "ghcr.io", "my_org", ""},
		{"ghcr.io/my__org", "ghcr.io", "my__org", ""},
		{"ghcr.io/my.org", "ghcr.io", "my.org", ""},
		{"ghcr.io/0rg9", "ghcr.io", "0rg9", ""},
		{"public.ecr.aws/a1b2c3d4", "public.ecr.aws", "a1b2c3d4", ""},
		{"docker.io/library", "docker.io", "library", ""},
		{"xn--bcher-kva.example/org", "xn--bcher-kva.example", "org", ""},
	}
	for _, tc := range good {
		t.Run("ok/"+tc.in, func(t *testing.T) {
			p, err := registry.ParsePrefix(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.host, p.Host())
			assert.Equal(t, tc.path, p.Path())
			want := tc.str
			if want == "" {
				want = tc.in
			}
			assert.Equal(t, want, p.String())
		})
	}

	bad := []struct {
		in, wantInMsg string
	}{
		{"https://ghcr.io/molecule-ai", "scheme"},
		{"http://localhost:5000", "scheme"},
		{"oci://ghcr.io/x", "scheme"},
		{"ghcr.io/molecule-ai:latest", "tag"},
		{"ghcr.io/org/image:v1", "tag"},
		{"ghcr.io/org@sha256:0000000000000000000000000000000000000000000000000000000000000000", "digest"},
		{"ghcr.io//molecule-ai", "empty path segment"},
		{"ghcr.io/a//b", "empty path segment"},
		{"ghcr.io/molecule-ai//", "empty path segment"},
		{"/molecule-ai", "no registry host"},
		{"ghcr.io/Molecule-AI", "upper-case"},
		{"ghcr.io/org/Team", "upper-case"},
		{"ghcr.io/molecule ai", "white space"},
		{"ghcr.io/molecule-ai\x00", "control"},
		{"ghcr.io/\x7fx", "control"},
		{"host.example:0", "out of range"},
		{"host.example:65536/a", "out of range"},
		{"host.example:99999999999", "out of range"},
		{"host.example:", "empty port"},
		{"host.example:http", "not a number"},
		{"host.example:-1", "not a number"},
		{"ghcr.io/" + strings.Repeat("a", 250), "255"},
		{"ghcr.io/-org", "not a valid repository name"},
		{"ghcr.io/org-", "not a valid repository name"},
		{"ghcr.io/org..x", "not a valid repository name"},
		{"ghcr.io/org___x", "not a valid repository name"},
		{"molecule-ai", "registry host"},
		{"-bad.example/org", "invalid host name"},
		{"bad_host.example/org", "invalid host name"},
		{"999.1.1.1/org", "invalid IPv4"},
		{"1.2.3/org", "invalid IPv4"},
		{"[::1/org", "unterminated"},
		{"[zz::1]/org", "invalid IPv6"},
		{"[::1]x/org", "after the IPv6"},
		{"[127.0.0.1]/org", "invalid IPv6"},
		{"::1/org", "IPv6 address without brackets"},
		{"user:secret@ghcr.io/org", "credentials"},
		// Numeric spellings Go's dialer sends to DNS: never taken for a
		// (loopback) address, nor for a name (issue 22, item 1).
		{"0x7f.0.0.1:5000/org", "invalid IPv4"},
		{"0X7F.0.0.1/org", "invalid IPv4"},
		{"0x7f.1:5000/org", "invalid IPv4"},
		{"0x7f000001:5000/org", "invalid IPv4"},
		{"2130706433:5000/org", "invalid IPv4"},
		{"0177.0.0.1:5000/org", "invalid IPv4"},
		{"127.000.000.001:5000/org", "invalid IPv4"},
		{"[fe80::1%25eth0]:5000/org", "invalid"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.in, func(t *testing.T) {
			_, err := registry.ParsePrefix(tc.in)
			require.Error(t, err)
			require.ErrorIs(t, err, registry.ErrInvalidConfig)
			var ce *registry.ConfigError
			require.True(t, errors.As(err, &ce))
			msg := err.Error()
			assert.Contains(t, msg, tc.wantInMsg)
			assert.Contains(t, msg, "MOLECULE_IMAGE_REGISTRY", "the message names the variable")
			assert.Contains(t, msg, "; ", "the message says the fix")
			if !strings.Contains(tc.in, "secret") {
				assert.Contains(t, msg, strconv.Quote(strings.TrimSpace(tc.in)), "the message quotes the input")
			}
		})
	}
}

func TestParsePrefixNeverEchoesCredentials(t *testing.T) {
	for _, in := range []string{"user:secret@ghcr.io/org", "https://user:secret@ghcr.io/org", "https://user:secret@ghcr.io",
		// Pasted with a digest or a second '@', and a password holding a '/'.
		"user:secret@ghcr.io/org@sha256:" + strings.Repeat("a", 64), "https://user:secret@ghcr.io/x@y",
		"user:sec/ret@ghcr.io/org", "user:secret@ghcr.io:443/org@x",
		// A password of digits before its '/', which looks like a port.
		"bot:12345/secret@ghcr.io/org", "bot:443/secret@ghcr.io:5000"} {
		_, err := registry.ParsePrefix(in)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "secret", in)
		assert.NotContains(t, err.Error(), "sec/ret", in)
		assert.Contains(t, err.Error(), "REDACTED", in)
	}
	_, err := registry.ParsePrefix("ghcr.io:443/org@sha256:" + strings.Repeat("a", 64))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ghcr.io:443/org@sha256:", "a digest is not credentials")
}

func TestPrefixAccessors(t *testing.T) {
	p := registry.MustParsePrefix("[::1]:5000/org/team")
	assert.Equal(t, "::1", p.Hostname())
	assert.Equal(t, "5000", p.Port())
	assert.Equal(t, "org/team/x", p.Repository("x"))
	assert.Equal(t, "[::1]:5000/org/team/x:latest", p.Image("x", "latest"))
	d := "sha256:" + strings.Repeat("a", 64)
	assert.Equal(t, "[::1]:5000/org/team/x@"+d, p.Image("x", d))

	bare := registry.MustParsePrefix("ghcr.io")
	assert.Equal(t, "x", bare.Repository("x"))
	assert.Equal(t, "ghcr.io", bare.Hostname())
	assert.Equal(t, "", bare.Port())
	assert.True(t, registry.Prefix{}.IsZero())
	assert.Panics(t, func() { registry.MustParsePrefix("https://x") })
}
