package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// version is registrykit's version, sent in the User-Agent.
const version = "0.2.0"

// baseUserAgent is the User-Agent of every request, before any suffix from
// Options.UserAgent.
const baseUserAgent = "registrykit/" + version

// errTooLarge is the cause of a response body over its limit.
var errTooLarge = errors.New("response too large")

// Body size limits.
const (
	maxTokenBody    = 1 << 20 // 1 MiB
	maxManifestBody = 4 << 20 // 4 MiB
	maxErrorBody    = 64 << 10
)

// Back-off of retried requests.
const (
	baseBackoff = 250 * time.Millisecond
	maxBackoff  = 4 * time.Second
	// MaxRetryAfter is the longest Retry-After waited for inside one call; a
	// longer one is returned to the caller as rate limited.
	maxRetryAfter = 30 * time.Second
	// MaxReportedRetryAfter caps the Retry-After an error reports, so that
	// one absurd header cannot park a watcher for years.
	maxReportedRetryAfter = time.Hour
)

// newClient returns the HTTP client of one backend. When o.HTTPClient is
// set its transport is used as it is (share one NewTransport between
// backends to share connections), wrapped for the User-Agent, debug logs and
// retries, and the redirect rules replace its CheckRedirect: at most 10;
// plain HTTP only to a host that may be reached over plain HTTP; the
// Authorization header dropped as soon as a redirect leaves the original
// host.
func newClient(o *registry.Options) (*http.Client, *predialer) {
	var base http.RoundTripper
	var timeout time.Duration
	var pre *predialer
	if o.HTTPClient != nil {
		base, timeout = o.HTTPClient.Transport, o.HTTPClient.Timeout
	}
	if base == nil {
		t := NewTransport()
		if o.ConfigureTransport != nil {
			o.ConfigureTransport(t)
		}
		base = t
		//lint:ignore SA1019 a DialTLS of the caller's, deprecated or not, would leave the dials ahead unused
		if t.DialTLSContext == nil && t.DialTLS == nil {
			pre = newPredialer(t)
			t.DialContext = pre.DialContext
			base = &learnTransport{inner: t, p: pre}
		}
	}
	return &http.Client{
		Transport: &retryTransport{
			inner: &logTransport{inner: base, log: o.Log(), observe: o.OnRequest},
			clock: o.Now(),
			tries: o.Tries(),
		},
		CheckRedirect: apiRedirects(o),
		Timeout:       timeout,
	}, pre
}

// guarded returns a copy of client whose redirects must each pass the realm
// rule: the client of token requests and of the /v2/ probe. A request with
// a body (a POSTed refresh_token) is never redirected to another host.
func guarded(client *http.Client, registryHost, registryScheme string, o *registry.Options, sameHostOnly bool, extraHosts []string) *http.Client {
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := apiRedirects(o)(req, via); err != nil {
			return err
		}
		first := via[0]
		if first.Method == http.MethodPost && !sameHost(req.URL, first.URL) {
			return &registry.Error{Kind: registry.ErrInsecure, Op: "token",
				Err: fmt.Errorf("refusing to re-send a token request body to another host %s", req.URL.Host)}
		}
		if _, err := checkRealm(req.URL.String(), registryHost, registryScheme, o, sameHostOnly, append(slices.Clone(extraHosts), first.URL.Host)...); err != nil {
			return err
		}
		return nil
	}
	return &c
}

func apiRedirects(o *registry.Options) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		first := via[0]
		if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && allowsPlainHTTP(req.URL.Host, o)) {
			return &registry.Error{Kind: registry.ErrInsecure, Op: "redirect",
				Err: fmt.Errorf("refusing redirect to %s://%s: plain HTTP goes only to loopback and hosts listed in registry.Options.InsecureHosts",
					Sanitize(req.URL.Scheme), quoteRemote(req.URL.Host))}
		}
		if !sameHost(req.URL, first.URL) {
			req.Header.Del("Authorization")
		}
		return nil
	}
}

func userAgent(o *registry.Options) string {
	if o.UserAgent != "" {
		return baseUserAgent + " " + o.UserAgent
	}
	return baseUserAgent
}

// logTransport logs each request at debug level: method, URL without
// secrets, status and duration; never headers or bodies. (Every request the
// engine builds carries its User-Agent already.)
type logTransport struct {
	inner   http.RoundTripper
	log     *slog.Logger
	observe func(registry.Request)
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	if t.observe != nil {
		r := registry.Request{Kind: requestKind(req), Method: req.Method, Host: req.URL.Host, Err: err, Duration: time.Since(start)}
		if err == nil {
			r.Status = resp.StatusCode
			if p, ok := parsePullLimit(resp.Header); ok {
				r.RateLimit, r.RateRemaining = p.limit, p.remaining
			}
		}
		t.observe(r)
	}
	if t.log.Enabled(req.Context(), slog.LevelDebug) {
		attrs := []any{slog.String("method", req.Method), slog.String("url", redactURL(req.URL.String())), slog.Duration("took", time.Since(start))}
		if err != nil {
			attrs = append(attrs, slog.String("error", Sanitize(err.Error())))
		} else {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		t.log.DebugContext(req.Context(), "http request", attrs...)
	}
	return resp, err
}

// requestKind classifies a request for observers.
func requestKind(req *http.Request) string {
	p := req.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		return "ping"
	case strings.Contains(p, "/manifests/"):
		return "manifest"
	case strings.HasPrefix(p, "/v2/") && !strings.HasSuffix(p, "/token") && !strings.HasSuffix(p, "/auth"):
		return "other"
	}
	return "token"
}

// redactURL hides userinfo and the values of query parameters that can carry
// secrets.
func redactURL(s string) string {
	u, err := url.Parse(s)
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

// retryTransport retries idempotent requests (GET and HEAD without a body)
// that failed with 429, 408, 5xx or a connection failure: at most tries
// attempts in all, with capped exponential back-off and jitter, honouring
// Retry-After (seconds or an HTTP date), and never waiting past the request
// context's deadline. When no attempt is left, or the wait would outlast the
// deadline or MaxRetryAfter, the last response (or error) is returned.
type retryTransport struct {
	inner http.RoundTripper
	clock registry.Clock
	tries int
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || (req.Body != nil && req.Body != http.NoBody) {
		return t.inner.RoundTrip(req)
	}
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		resp, err := t.inner.RoundTrip(req)
		if attempt >= t.tries || ctx.Err() != nil {
			return resp, err
		}
		wait, retry := t.retryWait(resp, err, attempt)
		if !retry {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && t.clock.Now().Add(wait).After(dl) {
			return resp, err
		}
		if resp != nil {
			drain(resp)
		}
		if err := t.clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retryWait says whether an attempt's answer is worth another attempt, and
// after how long: a connection failure or a retryable status, after the
// back-off or the Retry-After it asks for (a Retry-After past
// maxRetryAfter is not waited for).
func (t *retryTransport) retryWait(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	switch {
	case err != nil:
		return backoff(attempt), retryableNetError(err)
	case retryableStatus(resp.StatusCode):
		wait := backoff(attempt)
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.clock.Now()); ok {
			if ra > maxRetryAfter {
				return 0, false
			}
			wait = max(wait, ra)
		}
		return wait, true
	}
	return 0, false
}

func backoff(attempt int) time.Duration {
	d := min(baseBackoff<<(attempt-1), maxBackoff)
	// Equal jitter: half fixed, half random, so waits never collapse to zero.
	return d/2 + rand.N(d/2+1)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		code == http.StatusBadGateway || code == http.StatusServiceUnavailable ||
		code == http.StatusGatewayTimeout || code == http.StatusInternalServerError
}

// retryableNetError reports connection failures worth another attempt of an
// idempotent request. Context errors are not retried.
func retryableNetError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "server closed idle connection")
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date
// relative to now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxReportedRetryAfter/time.Second) {
			return maxReportedRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxReportedRetryAfter), true
	}
	return 0, false
}

// readBody reads at most limit bytes of resp's body and closes it. A longer
// body is an error matching registry.ErrBadResponse; memory stays bounded.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Err: fmt.Errorf("%w: body exceeds %d bytes", errTooLarge, limit)}
	}
	return b, nil
}

// drain discards up to a small bound of resp's body and closes it so the
// connection can be reused.
func drain(resp *http.Response) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
}

// NewTransport returns the base transport of registrykit's clients: Go's
// own, tuned for digest checks — a keep-alive pool sized for a watcher's
// concurrent checks, HTTP/2 where the registry offers it, TLS sessions
// resumed on reconnection, and timeouts for the TLS handshake and the
// response headers. Share one between backends of the same registry so
// that they share connections and TLS sessions.
//
// Requests to a registry with no idle connection each dial their own, as
// net/http does: after an idle gap a watcher's tick to an HTTP/2 registry
// may open several connections (the first to finish serves the rest from
// then on), and a host that stalls its handshakes fails every waiting
// request at the same handshake timeout.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.TLSClientConfig = &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(64)}
	return t
}
