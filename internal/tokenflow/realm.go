package tokenflow

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/registry"
)

// CheckRealm decides whether credentials may be sent to a token realm that
// the registry at registryHost (reached over registryScheme) announced:
//
//   - the realm must be an http or https URL with a host;
//   - an https registry's realm must be https;
//   - a realm on the registry's own host:port is accepted (for a loopback
//     registry, any loopback name on that port: Gitea's default ROOT_URL
//     says localhost while clients may say 127.0.0.1);
//   - a loopback realm (localhost, 127.0.0.0/8, ::1) on another port, and a
//     realm that is an IP literal in a private, link-local or unspecified
//     range, is refused;
//   - a realm on another host is accepted only over https, unless the
//     operator allowed plain HTTP to that host.
//
// A refusal matches registry.ErrInsecure and nothing is sent.
func CheckRealm(realm, registryHost, registryScheme string, o *registry.Options) (*url.URL, error) {
	fail := func(format string, args ...any) (*url.URL, error) {
		return nil, &registry.Error{Kind: registry.ErrInsecure, Op: "token", Image: registryHost,
			Err: fmt.Errorf("token realm %q refused: "+format, append([]any{httpx.RedactURL(realm)}, args...)...)}
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
	if sameHost(u, registryHost, registryScheme) {
		return u, nil
	}
	if httpx.IsLoopback(u.Host) {
		return fail("%s is a loopback address that is not the registry", u.Host)
	}
	if ip := net.ParseIP(strings.Trim(u.Hostname(), "[]")); ip != nil &&
		(ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified()) {
		return fail("%s is a private or link-local address that is not the registry", u.Hostname())
	}
	if u.Scheme == "http" && !httpx.AllowsPlainHTTP(u.Host, o) {
		return fail("another host over plain http")
	}
	return u, nil
}

// sameHost reports whether u points at registryHost (loopback aliases of
// the same port count as the same host).
func sameHost(u *url.URL, registryHost, registryScheme string) bool {
	return httpx.SameHost(u, &url.URL{Scheme: registryScheme, Host: registryHost})
}
