// Package httpx is registrykit's HTTP plumbing: the client every backend
// uses (keep-alive, HTTP/2, timeouts, User-Agent, debug logs without
// secrets, redirects that never carry credentials to another host), the
// HTTPS-unless-loopback rule, bounded body reads, retries of idempotent
// requests, and the mapping of registry answers to typed errors.
package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// Version is registrykit's version, sent in the User-Agent.
const Version = "0.1.0"

// UserAgent is the User-Agent of every request, before any suffix from
// [registry.WithUserAgent].
const UserAgent = "registrykit/" + Version

// Body size limits.
const (
	MaxTokenBody    = 1 << 20 // 1 MiB
	MaxManifestBody = 4 << 20 // 4 MiB
	MaxErrorBody    = 64 << 10
)

// NewClient returns the HTTP client of one backend. When o.HTTPClient is set
// its transport is kept, wrapped for the User-Agent and debug logs, and the
// redirect rules below replace its CheckRedirect.
//
// Idempotent requests are retried as retryTransport describes.
//
// Redirects: at most 10; never from https to http unless the target host may
// be reached over plain HTTP; and the Authorization header is dropped as soon
// as a redirect leaves the original host.
func NewClient(o *registry.Options) *http.Client {
	var base http.RoundTripper
	var timeout time.Duration
	if o.HTTPClient != nil {
		base, timeout = o.HTTPClient.Transport, o.HTTPClient.Timeout
	}
	if base == nil {
		base = NewTransport()
	}
	return &http.Client{
		Transport: &retryTransport{
			inner: &roundTripper{inner: base, ua: UserAgentFor(o), log: o.Log()},
			clock: o.Now(),
			tries: o.Tries(),
		},
		CheckRedirect: checkRedirect(o),
		Timeout:       timeout,
	}
}

// UserAgentFor returns the User-Agent of requests made with o: registrykit's
// own, followed by o.UserAgent. Callers that build requests set it
// themselves, which spares the client a copy of each request.
func UserAgentFor(o *registry.Options) string {
	if o.UserAgent != "" {
		return UserAgent + " " + o.UserAgent
	}
	return UserAgent
}

// NewTransport returns the base transport of registrykit's clients:
// keep-alive with a pool sized for concurrent digest checks, HTTP/2, and
// timeouts for the TLS handshake and the response headers.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

func checkRedirect(o *registry.Options) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		first := via[0]
		if first.URL.Scheme == "https" && req.URL.Scheme != "https" && !AllowsPlainHTTP(req.URL.Host, o) {
			return &registry.Error{Kind: registry.ErrInsecure, Op: "redirect",
				Err: fmt.Errorf("refusing redirect from https to %s://%s", req.URL.Scheme, req.URL.Host)}
		}
		if !SameHost(req.URL, first.URL) {
			req.Header.Del("Authorization")
		}
		return nil
	}
}

// SameHost reports whether a and b point at the same host and port (default
// ports made explicit), counting the loopback names — localhost,
// 127.0.0.0/8 and ::1 — as one host: credentials sent to any of them stay
// on this machine.
func SameHost(a, b *url.URL) bool {
	ha, hb := CanonicalHost(a), CanonicalHost(b)
	if ha == hb {
		return true
	}
	_, pa, _ := net.SplitHostPort(ha)
	_, pb, _ := net.SplitHostPort(hb)
	return pa == pb && IsLoopback(a.Host) && IsLoopback(b.Host)
}

// CanonicalHost returns u's lowercased host:port with the scheme's default
// port made explicit, for comparing hosts.
func CanonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// roundTripper sets the User-Agent and logs each request at debug level:
// method, URL without query secrets, status and duration. It never logs
// headers or bodies.
type roundTripper struct {
	inner http.RoundTripper
	ua    string
	log   *slog.Logger
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.ua)
	}
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	if t.log.Enabled(req.Context(), slog.LevelDebug) {
		attrs := []any{slog.String("method", req.Method), slog.String("url", RedactURL(req.URL.String())), slog.Duration("took", time.Since(start))}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		} else {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		t.log.DebugContext(req.Context(), "http request", attrs...)
	}
	return resp, err
}

// RedactURL hides userinfo and the values of query parameters that can carry
// secrets (password, token, refresh_token, access_token).
func RedactURL(s string) string {
	u, err := parseURL(s)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	q := u.Query()
	changed := false
	for k := range q {
		switch strings.ToLower(k) {
		case "password", "token", "refresh_token", "access_token", "x-amz-security-token", "x-amz-signature", "x-amz-credential":
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
