package registry

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/molecule-ai/registrykit/internal/envvar"
	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/internal/names"
)

const (
	// DefaultPrefix is used when MOLECULE_IMAGE_REGISTRY is unset or empty.
	DefaultPrefix = "ghcr.io/molecule-ai"
	// MaxPrefixLength is the longest prefix accepted, in bytes.
	maxPrefixLength = 255
)

// prefixFix is the generic fix appended to prefix errors.
const prefixFix = "set " + envvar.Registry + " to host[:port][/path], e.g. " + DefaultPrefix

// dnsLabel is one label of a registry host name, already lowercased.
var dnsLabel = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Prefix is a parsed image prefix: a registry host (with an optional port)
// and an optional organisation path below it. The zero Prefix is not valid;
// obtain one from [ParsePrefix].
type Prefix struct {
	host string // lowercased, "[::1]:5000" form for IPv6
	path string // "molecule-ai" or "org/team", may be empty
}

// ParsePrefix parses a MOLECULE_IMAGE_REGISTRY value, "host[:port][/path...]".
//
// Surrounding white space is trimmed and one trailing "/" is tolerated; an
// empty value yields [DefaultPrefix]. The host is a DNS name (with at least
// one dot, or "localhost"), an IPv4 address or a bracketed IPv6 address, with
// an optional port 1–65535, and is case-insensitive. Path segments follow the
// OCI distribution name grammar and must be lowercase. A scheme, a tag or
// digest, credentials, empty segments, white space and control characters are
// rejected with a [*ConfigError] that quotes the input and says the fix.
func ParsePrefix(s string) (Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultPrefix
	}
	input := s
	fail := func(reason, fix string) (Prefix, error) {
		if fix == "" {
			fix = prefixFix
		}
		return Prefix{}, &ConfigError{Var: envvar.Registry, Value: redactUserinfo(input), Reason: reason, Fix: fix}
	}
	if len(s) > maxPrefixLength {
		return fail("longer than "+strconv.Itoa(maxPrefixLength)+" characters", "")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return fail("has a URL scheme", "remove "+strconv.Quote(s[:i+3])+"; "+prefixFix)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fail("contains white space or a control character", "")
	}
	if strings.Contains(s, "@") {
		return fail("contains '@' (a digest or credentials)", "a prefix names where images live, not one image, and never carries credentials; "+prefixFix)
	}
	s = strings.TrimSuffix(s, "/")
	hostPart, path, _ := strings.Cut(s, "/")
	host, reason := parseHost(hostPart)
	if reason != "" {
		return fail(reason, "")
	}
	if path != "" {
		for seg := range strings.SplitSeq(path, "/") {
			switch {
			case seg == "":
				return fail("has an empty path segment", "remove the doubled '/'")
			case strings.Contains(seg, ":"):
				return fail("path segment "+strconv.Quote(seg)+" carries a tag", "a prefix names where images live, not one image: remove the ':tag'")
			case strings.ToLower(seg) != seg:
				return fail("path segment "+strconv.Quote(seg)+" has upper-case letters", "registry paths are lowercase: use "+strconv.Quote(strings.ToLower(seg)))
			case !names.IsComponent(seg):
				return fail("path segment "+strconv.Quote(seg)+" is not a valid repository name component", "use lowercase letters and digits separated by '.', '_', '__' or '-'")
			}
		}
	}
	return Prefix{host: host, path: path}, nil
}

// MustParsePrefix is like [ParsePrefix] but panics on error. It is meant for
// constants in tests and examples.
func MustParsePrefix(s string) Prefix {
	p, err := ParsePrefix(s)
	if err != nil {
		panic(err)
	}
	return p
}

// parseHost validates and normalises "host[:port]" with the one host
// identity of package internal/host, and adds the prefix's own rules: DNS
// labels without '_', and, as Docker has it, a first segment without a dot
// or port that is not "localhost" is not taken for a host. It returns a
// non-empty reason when the host is unusable.
func parseHost(s string) (string, string) {
	if s == "" {
		return "", "has no registry host"
	}
	h, err := host.Parse(s)
	if err != nil {
		return "", "has an invalid registry host: " + strings.TrimPrefix(err.Error(), host.ErrInvalid.Error()+" ")
	}
	if _, isAddr := h.Addr(); !isAddr {
		labels := strings.Split(h.Name(), ".")
		for _, l := range labels {
			if !dnsLabel.MatchString(l) {
				return "", "has an invalid host name " + strconv.Quote(h.Name())
			}
		}
		if len(labels) == 1 && h.Port() == "" && h.Name() != "localhost" {
			return "", "does not start with a registry host (a name with a dot or a port, or localhost)"
		}
	}
	return h.String(), ""
}

// hostName returns the canonical name of s ("host" or "host:port"), without
// port or brackets, by the one host identity; "" for what is no host.
func hostName(s string) string {
	h, err := host.Parse(s)
	if err != nil {
		return ""
	}
	return h.Name()
}

// hostPort returns the port of s ("host" or "host:port"), "" when none.
func hostPort(s string) string {
	h, _ := host.Parse(s)
	return h.Port()
}

// redactUserinfo hides a "user:password@" part so that errors never echo a
// credential someone pasted into the variable.
func redactUserinfo(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	at := strings.Index(s[start:], "@")
	if at < 0 {
		return s
	}
	if strings.Contains(s[start:start+at], "/") && isDigest(s[start+at+1:]) {
		return s // "host/path@digest": no credentials, whatever the path holds
	}
	return s[:start] + "REDACTED@" + s[start+at+1:]
}

// isDigest reports whether s is "algorithm:encoded" with an encoded part of
// 32 or more hex digits, the grammar of distribution/reference's
// regexp.go (digest-hex := /[0-9a-fA-F]{32,}/). A port is never that long,
// so "user:pass@host:5000" is not taken for one.
func isDigest(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	return ok && alg != "" && len(hex) >= 32 &&
		strings.Trim(alg, "abcdefghijklmnopqrstuvwxyz0123456789+._-") == "" &&
		strings.Trim(hex, "0123456789abcdefABCDEF") == ""
}

// Host returns the registry host with its port, if any.
func (p Prefix) Host() string { return p.host }

// Hostname returns the registry host without its port and without IPv6
// brackets.
func (p Prefix) Hostname() string { return hostName(p.host) }

// Port returns the port of the host, or "" when none was given.
func (p Prefix) Port() string { return hostPort(p.host) }

// Path returns the organisation path below the host ("molecule-ai"), which
// may be empty.
func (p Prefix) Path() string { return p.path }

// String renders the prefix in the form ParsePrefix accepts.
func (p Prefix) String() string {
	if p.path == "" {
		return p.host
	}
	return p.host + "/" + p.path
}

// IsZero reports whether p is the zero Prefix.
func (p Prefix) IsZero() bool { return p.host == "" }

// Repository returns the full repository name of repo below the prefix,
// without the host: "molecule-ai/workspace-template-langgraph". This is the
// name a registry's /v2/ API and token scopes use.
func (p Prefix) Repository(repo string) string {
	if p.path == "" {
		return repo
	}
	if repo == "" {
		return p.path
	}
	return p.path + "/" + repo
}

// Image returns the full reference of repo at ref below the prefix. A ref
// with a ':' (an algorithm) is a digest and is joined with '@', anything
// else is a tag: "ghcr.io/molecule-ai/workspace-template-langgraph:latest".
func (p Prefix) Image(repo, ref string) string {
	name := p.host + "/" + p.Repository(repo)
	switch {
	case ref == "":
		return name
	case strings.Contains(ref, ":"):
		return name + "@" + ref
	default:
		return name + ":" + ref
	}
}

// Prefix returns p itself rendered as a string, so that a Prefix can be
// passed wherever an interface{ Prefix() string } is taken, such as
// [RuntimeImage].
func (p Prefix) Prefix() string { return p.String() }
