package engine

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

// CheckRealm is the one rule that decides whether credentials may be sent
// to a URL other than the registry's own API: an announced token realm, any
// redirect of a token request, and any redirect of the /v2/ probe. The
// registry is registryHost, reached over registryScheme. extraHosts are
// realm hosts a driver or operator allows besides the registry.
//
//   - the URL must be an http or https URL with a host and no userinfo;
//   - an https registry's realm must be https;
//   - the registry's own host:port is accepted (for a loopback registry, any
//     loopback IP literal or "localhost" on that port);
//   - any other loopback address, and an IP literal in a private, link-local,
//     unspecified or multicast range, is refused;
//   - another DNS host is accepted only over https, unless the operator
//     allowed plain HTTP to it; sameHostOnly refuses it outright unless it
//     is one of extraHosts.
//
// Hosts are compared after normalisation ([CanonicalHost]). A refusal
// matches registry.ErrInsecure; nothing is sent.
func CheckRealm(realm, registryHost, registryScheme string, o *registry.Options, sameHostOnly bool, extraHosts ...string) (*url.URL, error) {
	fail := func(format string, args ...any) (*url.URL, error) {
		return nil, &registry.Error{Kind: registry.ErrInsecure, Op: "token", Image: registryHost,
			Err: fmt.Errorf("token realm %s refused: "+format, append([]any{quoteRemote(RedactURL(realm))}, args...)...)}
	}
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" {
		return fail("not an absolute URL")
	}
	if u.User != nil {
		return fail("carries credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if registryScheme == "https" {
			return fail("plain http for an https registry")
		}
	default:
		return fail("scheme %q is not http or https", u.Scheme)
	}
	if !plainHost(u.Hostname()) {
		// Go's transport would map fullwidth digits and letters to ASCII
		// (IDNA) and dial an IPv6 zone as given: a name that is not plain
		// ASCII letters, digits, '-', '.' and ':' could hide an address.
		return fail("the host is not a plain ASCII name or address")
	}
	reg := &url.URL{Scheme: registryScheme, Host: registryHost}
	if SameHost(u, reg) {
		return u, nil
	}
	name := canonicalName(u.Host)
	if isLoopbackName(name) || strings.HasSuffix(name, ".localhost") {
		return fail("%s is a loopback address that is not the registry", u.Host)
	}
	if ip := parseIP(name); ip != nil && !publicIP(ip) {
		return fail("%s is a private, link-local or unspecified address that is not the registry", name)
	}
	allowed := slices.ContainsFunc(extraHosts, func(h string) bool {
		return canonicalName(h) == name || CanonicalHost(&url.URL{Scheme: u.Scheme, Host: h}) == CanonicalHost(u)
	})
	if sameHostOnly && !allowed {
		return fail("%s is another host than the registry %s", u.Host, registryHost)
	}
	if u.Scheme == "http" && !AllowsPlainHTTP(u.Host, o) {
		return fail("another host over plain http")
	}
	return u, nil
}

// plainHost reports whether host is made only of ASCII letters, digits,
// '-', '.', '_' and ':' (no zone, no percent-encoding, nothing IDNA would
// rewrite).
func plainHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// SameHost reports whether a and b point at the same host and port, after
// normalisation ([CanonicalHost]). Loopback IP literals and "localhost" on
// the same port count as one host: credentials sent to any of them stay on
// this machine.
func SameHost(a, b *url.URL) bool {
	ha, hb := CanonicalHost(a), CanonicalHost(b)
	if ha == hb {
		return true
	}
	na, pa, _ := net.SplitHostPort(ha)
	nb, pb, _ := net.SplitHostPort(hb)
	return pa == pb && isLoopbackName(na) && isLoopbackName(nb)
}

// CanonicalHost returns u's host as "name:port" for comparisons: the name
// lowercased and without a trailing dot, an IP address in its one canonical
// form (IPv4 in any spelling — decimal, octal, hex, shortened — and its
// IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms become dotted IPv4),
// and the scheme's default port made explicit.
func CanonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(canonicalName(u.Host), port)
}

// canonicalName normalises the name part of a "host" or "host:port".
func canonicalName(host string) string {
	h := host
	if name, _, err := net.SplitHostPort(host); err == nil {
		h = name
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := parseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

// IsLoopback reports whether host ("host" or "host:port") is a loopback
// address: an IP literal in 127.0.0.0/8 or ::1 (in any spelling), or exactly
// "localhost". A name under .localhost is resolved by DNS like any other
// name and is not trusted.
func IsLoopback(host string) bool { return isLoopbackName(canonicalName(host)) }

func isLoopbackName(name string) bool {
	if name == "localhost" {
		return true
	}
	ip := parseIP(name)
	return ip != nil && ip.IsLoopback()
}

// nat64 is the well-known NAT64 prefix 64:ff9b::/96 (RFC 6052).
var nat64 = net.IPNet{IP: net.ParseIP("64:ff9b::"), Mask: net.CIDRMask(96, 128)}

// parseIP parses an IP literal in any spelling Go's resolver or a browser
// would accept for IPv4 (inet_aton forms: 2130706433, 0x7f.1, 0177.0.0.1),
// and reduces the IPv6 forms that embed IPv4 (mapped, compatible, NAT64) to
// the IPv4 address. It returns nil for a name.
func parseIP(s string) net.IP {
	if ip := net.ParseIP(s); ip != nil {
		if v4 := ip.To4(); v4 != nil {
			return v4
		}
		if ip.Equal(net.IPv6loopback) || ip.Equal(net.IPv6unspecified) {
			return ip
		}
		if isZero(ip[:12]) || nat64.Contains(ip) { // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d
			return net.IPv4(ip[12], ip[13], ip[14], ip[15]).To4()
		}
		return ip
	}
	return parseInetAton(s)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// parseInetAton parses the legacy IPv4 spellings: one to four parts, each
// decimal, octal (leading 0) or hex (0x), the last part filling the
// remaining bytes.
func parseInetAton(s string) net.IP {
	if s == "" || strings.Trim(s, "0123456789abcdefxABCDEFX.") != "" {
		return nil
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return nil
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return nil
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*uint(5-len(vals))) {
		return nil
	}
	n |= last
	return net.IPv4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n)).To4()
}

func parseAtonPart(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case p == "":
		return 0, false
	case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		var d uint64
		switch c := p[i]; {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 1<<32 {
			return 0, false
		}
	}
	return v, true
}

// publicIP reports whether ip may receive credentials as a realm on another
// host: not loopback, private, link-local, unspecified, multicast, or in
// the shared (100.64.0.0/10) or benchmarking ranges.
func publicIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, n := range nonPublic {
		if n.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublic = []net.IPNet{
	{IP: net.IPv4(100, 64, 0, 0).To4(), Mask: net.CIDRMask(10, 32)}, // shared address space
	{IP: net.IPv4(198, 18, 0, 0).To4(), Mask: net.CIDRMask(15, 32)}, // benchmarking
	{IP: net.IPv4(0, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},     // "this network"
	{IP: net.IPv4(240, 0, 0, 0).To4(), Mask: net.CIDRMask(4, 32)},   // reserved, and broadcast
	{IP: net.ParseIP("fec0::"), Mask: net.CIDRMask(10, 128)},        // site-local (deprecated)
}

// AllowsPlainHTTP reports whether host may be reached over plain HTTP:
// loopback hosts always, and hosts the operator listed with
// registry.WithInsecureHosts (matched with or without the port).
func AllowsPlainHTTP(host string, o *registry.Options) bool {
	if IsLoopback(host) {
		return true
	}
	if o == nil {
		return false
	}
	if o.AllowsInsecure(host) {
		return true
	}
	if name, _, err := net.SplitHostPort(host); err == nil {
		return o.AllowsInsecure(name)
	}
	return false
}

// Scheme returns "http" for hosts that may be reached over plain HTTP and
// "https" for every other host.
func Scheme(host string, o *registry.Options) string {
	if AllowsPlainHTTP(host, o) {
		return "http"
	}
	return "https"
}
