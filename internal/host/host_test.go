package host

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The host-identity table: each spelling, what Parse makes of it, and
// whether it is loopback. A spelling is loopback (or an address at all) only
// when net.ParseIP — the dialer's reading — reads it so; the test checks that
// against the standard library for every accepted IP literal.
func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		want     string // canonical String(); "" when refused
		loopback bool
	}{
		{"ghcr.io", "ghcr.io", false},
		{"GHCR.IO.", "ghcr.io", false},
		{"ghcr.io:443", "ghcr.io:443", false},
		{"localhost:5000", "localhost:5000", true},
		{"LOCALHOST", "localhost", true},
		{"registry.localhost", "registry.localhost", false}, // resolved by DNS: not trusted as loopback
		{"localhost.:5000", "localhost.:5000", false},       // misses /etc/hosts: DNS answers, not loopback
		{"127.0.0.1:5000", "127.0.0.1:5000", true},
		{"127.9.9.9", "127.9.9.9", true},
		{"[::1]:5000", "[::1]:5000", true},
		{"[0:0:0:0:0:0:0:1]", "[::1]", true},
		{"[::ffff:127.0.0.1]:80", "127.0.0.1:80", true}, // IPv4-mapped: dialed as 127.0.0.1
		{"[64:ff9b::7f00:1]:80", "[64:ff9b::7f00:1]:80", false},
		{"[::7f00:1]", "[::7f00:1]", false}, // IPv4-compatible: dialed as IPv6
		{"10.0.0.1", "10.0.0.1", false},
		{"my_host.internal:8080", "my_host.internal:8080", false},
		{"[fe80::1]", "[fe80::1]", false},
		// Refused: spellings the dialer would send to DNS, and the rest.
		{"0x7f.0.0.1", "", false},
		{"127.0.0.1.", "", false}, // not an address to the dialer (netip refuses the dot)
		{"0X7F.0.0.1", "", false},
		{"0x7f.1", "", false},
		{"0x7f000001", "", false},
		{"2130706433", "", false},
		{"0177.0.0.1", "", false},
		{"127.1", "", false},
		{"127.000.000.001", "", false},
		{"1.2.3.4.5", "", false},
		{"host.0x1", "", false},
		{"[fe80::1%25eth0]", "", false},
		{"[fe80::1%eth0]", "", false},
		{"[127.0.0.1]", "", false},
		{"::1", "", false},
		{"ｇhcr.io", "", false},
		{"gh%63r.io", "", false},
		{"", "", false},
		{"a..b", "", false},
		{"ghcr.io:", "", false},
		{"ghcr.io:0", "", false},
		{"ghcr.io:65536", "", false},
		{"ghcr.io:+443", "", false},
		{"[::1]x", "", false},
		{"[::1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := Parse(tt.in)
			if tt.want == "" {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, h.String())
			assert.Equal(t, tt.loopback, h.IsLoopback())
			if a, ok := h.Addr(); ok {
				ip := net.ParseIP(h.Name())
				require.NotNil(t, ip, "an address the dialer reads")
				assert.Equal(t, ip.IsLoopback(), a.IsLoopback())
			}
		})
	}
}

func TestSame(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"ghcr.io:443", "GHCR.io.:443", true},
		{"ghcr.io:443", "ghcr.io:80", false},
		{"localhost:5000", "127.0.0.1:5000", true},
		{"[::1]:5000", "localhost:5000", true},
		// Other loopback addresses are other listeners, which another user
		// of the machine may own; "localhost." misses /etc/hosts.
		{"[::1]:5000", "127.0.0.2:5000", false},
		{"127.0.0.1:5000", "127.0.0.2:5000", false},
		{"localhost.:5000", "localhost:5000", false},
		{"localhost:5000", "127.0.0.1:5001", false},
		{"127.0.0.1:80", "[::ffff:127.0.0.1]:80", true},
		{"127.0.0.1:80", "[64:ff9b::7f00:1]:80", false}, // NAT64 is dialed off this machine
		{"127.0.0.1:80", "[::7f00:1]:80", false},
		{"registry.localhost:80", "localhost:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			assert.Equal(t, tt.want, Same(MustParse(tt.a), MustParse(tt.b)))
			assert.Equal(t, tt.want, Same(MustParse(tt.b), MustParse(tt.a)))
		})
	}
	assert.True(t, Same(MustParse("ghcr.io").WithDefaultPort("443"), MustParse("ghcr.io:443")))
	assert.False(t, Same(Host{}, Host{}))
}

func TestNonPublic(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ghcr.io", false},
		{"8.8.8.8", false},
		{"[2606:4700::1111]", false},
		{"127.0.0.1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"100.64.0.1", true},
		{"198.18.0.1", true},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"[::1]", true},
		{"[fe80::1]", true},
		{"[fc00::1]", true},
		{"[fec0::1]", true},
		{"[::ffff:169.254.169.254]", true},
		{"[::a9fe:a9fe]", true},                  // IPv4-compatible
		{"[::ffff:0:a9fe:a9fe]", true},           // SIIT IPv4-translated
		{"[64:ff9b::a9fe:a9fe]", true},           // NAT64
		{"[64:ff9b::7f00:1]", true},              // NAT64 loopback
		{"[64:ff9b:1:a9fe:a9:fe00::]", true},     // local-use NAT64, RFC 6052 /48 placement
		{"[64:ff9b:1::a9fe:a9fe]", true},         // local-use NAT64, /96 placement
		{"[2002:a9fe:a9fe::1]", true},            // 6to4
		{"[2002:0808:0808::1]", false},           // 6to4 of a public address
		{"[2001:0:a9fe:a9fe::]", true},           // Teredo server
		{"[2001:0:808:808::56:5601:fefe]", true}, // Teredo client 169.254.1.1, obfuscated
		{"[64:ff9b::808:808]", false},
		{"192.0.0.192", true}, // IETF protocol assignments; a cloud metadata address
		{"[::ffff:192.0.0.192]", true},
		{"192.0.2.10", true}, // documentation
		{"[2001:db8::1]", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, MustParse(tt.in).NonPublic())
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ghcr.io", "127.0.0.1:5000", "[::1]:80", "0x7f.1", "[64:ff9b::7f00:1]", "a.b.c:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(h.String())
		if err != nil || again != h {
			t.Fatalf("canonical form %q of %q does not parse to itself: %v", h.String(), s, err)
		}
		if h.IsLoopback() && h.Name() != "localhost" && !net.ParseIP(h.Name()).IsLoopback() {
			t.Fatalf("%q is loopback but the dialer does not read it so", s)
		}
	})
}
