package httpx

import (
	"net"
	"net/url"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

// IsLoopback reports whether host ("host" or "host:port") is a loopback
// address: 127.0.0.0/8, ::1 or localhost.
func IsLoopback(host string) bool {
	h := host
	if name, _, err := net.SplitHostPort(host); err == nil {
		h = name
	}
	h = strings.Trim(strings.ToLower(h), "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
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
