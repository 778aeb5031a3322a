package engine

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
)

// checkRealm is the one rule that decides whether credentials may be sent
// to a URL other than the registry's own API: an announced token realm, any
// redirect of a token request, and any redirect of the /v2/ probe. The
// registry is registryHost, reached over registryScheme. extraHosts are
// realm hosts a driver or operator allows besides the registry.
//
//   - the URL must be an http or https URL with a host and no userinfo;
//   - an https registry's realm must be https;
//   - the host must be one Go's dialer reaches as written (package
//     internal/host): no IDNA, zone or numeric spelling it would send to DNS;
//   - the registry's own host:port is accepted (for a loopback registry,
//     also "localhost", 127.0.0.1 or ::1 on that port);
//   - any other loopback host or name under .localhost, and an address — or
//     an IPv6 address embedding one — in a private, link-local, unspecified,
//     shared or reserved range, is refused;
//   - another DNS host is accepted only over https, unless the operator
//     allowed plain HTTP to it; sameHostOnly refuses it outright unless it
//     is one of extraHosts.
//
// A refusal matches registry.ErrInsecure; nothing is sent.
func checkRealm(realm, registryHost, registryScheme string, o *registry.Options, sameHostOnly bool, extraHosts ...string) (*url.URL, error) {
	fail := func(format string, args ...any) (*url.URL, error) {
		return nil, &registry.Error{Kind: registry.ErrInsecure, Op: "token", Image: registryHost,
			Err: fmt.Errorf("token realm %s refused: "+format, append([]any{quoteRemote(redactURL(realm))}, args...)...)}
	}
	u, h, reason := parseRealm(realm, registryScheme)
	if reason != "" {
		return fail("%s", reason)
	}
	if reg, ok := parseHost(registryHost, registryScheme); ok && host.Same(h, reg) {
		return u, nil
	}
	if h.IsLoopback() || h.IsLocalName() {
		return fail("%s is a loopback address that is not the registry", u.Host)
	}
	if h.NonPublic() {
		return fail("%s is a private, link-local or unspecified address that is not the registry", h.Name())
	}
	allowed := slices.ContainsFunc(extraHosts, func(extra string) bool {
		e, ok := parseHost(extra, u.Scheme)
		return ok && (host.Same(e, h) || e.Name() == h.Name())
	})
	if sameHostOnly && !allowed {
		return fail("%s is another host than the registry %s", u.Host, registryHost)
	}
	if u.Scheme == "http" && !allowsPlainHTTP(u.Host, o) {
		return fail("another host over plain http")
	}
	return u, nil
}

// parseRealm parses a realm or redirect URL: an http or https URL with a
// host Go dials as written and no userinfo, and https for an https
// registry. A non-empty reason says why it is refused.
func parseRealm(realm, registryScheme string) (*url.URL, host.Host, string) {
	u, err := url.Parse(realm)
	switch {
	case err != nil || u.Host == "":
		return nil, host.Host{}, "not an absolute URL"
	case u.User != nil:
		return nil, host.Host{}, "carries credentials"
	case u.Scheme == "http" && registryScheme == "https":
		return nil, host.Host{}, "plain http for an https registry"
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, host.Host{}, fmt.Sprintf("scheme %q is not http or https", u.Scheme)
	}
	h, ok := urlHost(u)
	if !ok {
		return nil, host.Host{}, "the host is not a plain ASCII name or an address Go dials as written"
	}
	return u, h, ""
}

// parseHost parses s ("host" or "host:port") with scheme's default port.
func parseHost(s, scheme string) (host.Host, bool) {
	h, err := host.Parse(s)
	if err != nil {
		return host.Host{}, false
	}
	return h.WithDefaultPort(host.SchemePort(scheme)), true
}

// urlHost is u's host with the default port of u's scheme.
func urlHost(u *url.URL) (host.Host, bool) { return parseHost(u.Host, u.Scheme) }

// sameHost reports whether a and b point at the same host and port
// ([host.Same]); a host that does not parse is nobody's.
func sameHost(a, b *url.URL) bool {
	ha, ok := urlHost(a)
	if !ok {
		return false
	}
	hb, ok := urlHost(b)
	return ok && host.Same(ha, hb)
}

// allowsPlainHTTP reports whether h may be reached over plain HTTP:
// loopback hosts always, and hosts the operator listed with
// Options.InsecureHosts (matched with or without the port).
func allowsPlainHTTP(s string, o *registry.Options) bool {
	h, err := host.Parse(s)
	if err != nil {
		return false
	}
	if h.IsLoopback() {
		return true
	}
	return o != nil && (o.AllowsInsecure(h.String()) || o.AllowsInsecure(h.Name()))
}

// Scheme returns "http" for a host that may be reached over plain HTTP
// (loopback, and hosts listed in Options.InsecureHosts) and "https"
// for every other host. A driver builds its known realm's URL with it.
func Scheme(host string, o *registry.Options) string {
	if allowsPlainHTTP(host, o) {
		return "http"
	}
	return "https"
}
