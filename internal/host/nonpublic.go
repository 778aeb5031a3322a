package host

import "net/netip"

// NonPublic reports whether h is an address that must never receive
// credentials as another host than the registry: loopback, private,
// link-local, unspecified, multicast, shared (100.64.0.0/10), benchmarking,
// "this network", reserved, site-local — or an IPv6 address that embeds
// such an IPv4 address in any of the standard ways (IPv4-compatible,
// IPv4-translated, NAT64 in 64:ff9b::/96 and 64:ff9b:1::/48, 6to4,
// Teredo's server and client). Folding embedded IPv4 here, and only here,
// is safe: it can only refuse. A name is not an address and is not
// NonPublic.
func (h Host) NonPublic() bool {
	if !h.addr.IsValid() {
		return false
	}
	if !public(h.addr) {
		return true
	}
	for _, v4 := range embedded(h.addr) {
		if !public(v4) {
			return true
		}
	}
	return false
}

var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (192.0.0.192: a cloud metadata address)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

func public(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var (
	compatible = netip.MustParsePrefix("::/96")           // IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1)
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT ::ffff:0:a.b.c.d (RFC 2765 §2.1)
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // well-known NAT64 (RFC 6052 §2.1)
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")  // local-use NAT64 (RFC 8215)
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4 (RFC 3056 §2)
	teredo     = netip.MustParsePrefix("2001::/32")       // Teredo (RFC 4380 §4)
)

// embedded returns the IPv4 addresses an IPv6 address carries.
func embedded(a netip.Addr) []netip.Addr {
	if !a.Is6() || a.Is4In6() {
		return nil
	}
	b := a.As16()
	v4 := func(p, q, r, s byte) netip.Addr { return netip.AddrFrom4([4]byte{p, q, r, s}) }
	switch {
	case compatible.Contains(a), translated.Contains(a), nat64.Contains(a):
		return []netip.Addr{v4(b[12], b[13], b[14], b[15])}
	case nat64Local.Contains(a):
		// RFC 6052 §2.2, /48 prefix: bits 48-63 and 72-87 (octet 8 is "u").
		// Other placements within the /48 are allowed too; refuse any of them.
		return []netip.Addr{v4(b[6], b[7], b[9], b[10]), v4(b[12], b[13], b[14], b[15])}
	case sixToFour.Contains(a):
		return []netip.Addr{v4(b[2], b[3], b[4], b[5])}
	case teredo.Contains(a):
		return []netip.Addr{v4(b[4], b[5], b[6], b[7]), v4(^b[12], ^b[13], ^b[14], ^b[15])}
	}
	return nil
}
