// Package host is registrykit's one notion of host identity: how a registry,
// realm or redirect host is parsed, what its canonical form is, whether it
// is loopback, and whether two hosts are the same.
//
// The rule is Go's dialer's: a host counts as an address (loopback, or the
// same as another) only in a form that net.Dial dials as that address. Other
// numeric-looking spellings — 0x7f.0.0.1, 2130706433, 0177.0.0.1, 127.1 —
// are sent to DNS by the dialer, so they are refused outright rather than
// folded. Embedded IPv4 (NAT64, 6to4, IPv4-compatible) is folded only to
// refuse a host ([Host.NonPublic]), never to accept one.
package host

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrInvalid is matched by every error of [Parse].
var ErrInvalid = errors.New("invalid host")

// Host is a parsed host in canonical form. The zero Host is not valid.
type Host struct {
	name string     // lowercase, no trailing dot, no brackets; an address in its canonical form
	port string     // decimal without leading zeros, "" when none
	addr netip.Addr // valid when name is an IP literal the dialer dials as such
}

// Parse parses "name", "name:port", "[v6]" or "[v6]:port", the form of a
// URL's Host and of an image prefix's host. It refuses, with an error that
// matches [ErrInvalid] and says why: an empty host, anything but ASCII
// letters, digits, '-', '.' and '_' in a name (Go would map other letters
// through IDNA, and dial an IPv6 zone as given), an unbracketed or zoned
// IPv6 address, a port outside 1–65535, and a numeric-looking name that the
// dialer would not read as an address.
func Parse(s string) (Host, error) {
	fail := func(reason string) (Host, error) {
		return Host{}, fmt.Errorf("%w %q: %s", ErrInvalid, s, reason)
	}
	if s == "" {
		return fail("empty")
	}
	name, port, err := split(s)
	if err != "" {
		return fail(err)
	}
	if port, err = checkPort(port); err != "" {
		return fail(err)
	}
	var h Host
	var reason string
	if strings.HasPrefix(s, "[") {
		h, reason = parseBracketed(name)
	} else {
		h, reason = parseName(name)
	}
	if reason != "" {
		return fail(reason)
	}
	h.port = port
	return h, nil
}

// parseBracketed parses the address inside "[...]": IPv6 without a zone,
// an IPv4-mapped one taken as its IPv4 address.
func parseBracketed(name string) (Host, string) {
	a, err := netip.ParseAddr(name)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return Host{}, "an invalid IPv6 address (a zone, or not IPv6)"
	}
	a = a.Unmap()
	return Host{name: a.String(), addr: a}, ""
}

// parseName parses a name or an IPv4 address.
func parseName(name string) (Host, string) {
	name, dotted := strings.CutSuffix(strings.ToLower(name), ".")
	if reason := checkName(name); reason != "" {
		return Host{}, reason
	}
	numeric := endsInNumber(name)
	switch {
	case dotted && numeric:
		// Not an address to the dialer: netip refuses the dot.
		return Host{}, "an invalid IPv4 address: a trailing dot makes it a name Go's dialer would look up in DNS"
	case dotted && name == "localhost":
		// "localhost." misses /etc/hosts and goes to DNS: keep the dot, so
		// that it is neither loopback nor the same as "localhost".
		return Host{name: name + "."}, ""
	case numeric:
		a, err := netip.ParseAddr(name)
		if err != nil || !a.Is4() {
			return Host{}, "an invalid IPv4 address: a numeric spelling other than dotted decimal, which Go's dialer would look up in DNS"
		}
		return Host{name: a.String(), addr: a}, ""
	}
	return Host{name: name}, ""
}

// checkPort returns port in canonical form, or a reason it is refused.
func checkPort(port string) (string, string) {
	if port == "" {
		return "", ""
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil || strings.Trim(port, "0123456789") != "":
		return "", "the port is not a number"
	case n < 1 || n > 65535:
		return "", "the port is out of range 1-65535"
	}
	return strconv.Itoa(n), ""
}

// MustParse is Parse for hosts known to be valid; it panics otherwise.
func MustParse(s string) Host {
	h, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return h
}

// split separates s into name and port, with the brackets of an IPv6
// address removed; a non-empty third result says what is wrong.
func split(s string) (name, port, reason string) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", "an unterminated IPv6 address"
		}
		name, rest := s[1:end], s[end+1:]
		switch {
		case rest == "":
			return name, "", ""
		case rest == ":":
			return "", "", "an empty port"
		case !strings.HasPrefix(rest, ":"):
			return "", "", "text after the IPv6 address"
		}
		return name, rest[1:], ""
	}
	name, port, hasPort := strings.Cut(s, ":")
	switch {
	case strings.Contains(port, ":"):
		return "", "", "an IPv6 address without brackets, or more than one ':'"
	case hasPort && port == "":
		return "", "", "an empty port"
	}
	return name, port, ""
}

// checkName validates a lowercased name without its trailing dot: plain
// ASCII labels of letters, digits, '-' and '_', none empty or over 63
// bytes, 253 bytes in all.
func checkName(name string) string {
	if name == "" {
		return "no name"
	}
	if len(name) > 253 {
		return "a name longer than 253 characters"
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return "an empty label or one longer than 63 characters"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "not a plain ASCII name or address"
			}
		}
	}
	return ""
}

// endsInNumber reports whether the last label of name is numeric: decimal
// digits, or "0x" and hex digits. Such a name is an IPv4 address to a URL
// parser (WHATWG's "ends in a number") and to inet_aton, and is never a DNS
// name worth trusting.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// Name returns the canonical name: lowercase, without a trailing dot, an
// address in netip's form (an IPv4-mapped IPv6 address as IPv4), without
// brackets.
func (h Host) Name() string { return h.name }

// Port returns the port, or "" when none was given.
func (h Host) Port() string { return h.port }

// Addr returns the address the name is, when it is an IP literal.
func (h Host) Addr() (netip.Addr, bool) { return h.addr, h.addr.IsValid() }

// IsZero reports whether h is the zero Host.
func (h Host) IsZero() bool { return h.name == "" }

// String renders h as "name[:port]", with brackets around an IPv6 address.
func (h Host) String() string {
	name := h.name
	if h.addr.Is6() {
		name = "[" + name + "]"
	}
	if h.port == "" {
		return name
	}
	return name + ":" + h.port
}

// WithDefaultPort returns h with port p when it has none: the port of a
// URL's scheme, so that "ghcr.io" and "ghcr.io:443" compare equal.
func (h Host) WithDefaultPort(p string) Host {
	if h.port == "" {
		h.port = p
	}
	return h
}

// IsLoopback reports whether h is exactly "localhost" or an address in
// 127.0.0.0/8 or ::1 that the dialer dials as such. A name under
// .localhost is resolved by DNS like any other name and is not loopback.
func (h Host) IsLoopback() bool {
	return h.name == "localhost" || h.addr.IsValid() && h.addr.IsLoopback()
}

// Same reports whether a and b are the same host and port. "localhost",
// 127.0.0.1 and ::1 — what localhost resolves to — on the same port count
// as one (Gitea's default ROOT_URL says localhost for a registry reached as
// 127.0.0.1); other loopback addresses (127.0.0.2) are other listeners,
// which another user of the machine may own.
func Same(a, b Host) bool {
	if a.port != b.port || a.IsZero() || b.IsZero() {
		return false
	}
	return a.name == b.name || a.isLocalhost() && b.isLocalhost()
}

// isLocalhost reports whether h is "localhost" or one of the addresses it
// resolves to, 127.0.0.1 and ::1.
func (h Host) isLocalhost() bool {
	return h.name == "localhost" || h.name == "127.0.0.1" || h.name == "::1"
}

// IsLocalName reports whether h is a name that /etc/hosts or the resolver
// may map to this machine but that is not "localhost" itself: a name under
// .localhost, "localhost." and the usual aliases of loopback in /etc/hosts
// (localhost.localdomain, localhost6, ip6-localhost, ip6-loopback). Such a
// name is never loopback for plain HTTP, and never a realm on another host.
func (h Host) IsLocalName() bool {
	switch h.name {
	case "localhost.", "localhost.localdomain", "localhost6", "localhost6.localdomain6", "ip6-localhost", "ip6-loopback":
		return true
	}
	return strings.HasSuffix(h.name, ".localhost")
}

// SchemePort returns the default port of a URL scheme: "80" for http, "443"
// otherwise.
func SchemePort(scheme string) string {
	if strings.EqualFold(scheme, "http") {
		return "80"
	}
	return "443"
}
