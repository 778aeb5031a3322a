package httpx

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// Back-off of retried requests.
const (
	BaseBackoff = 250 * time.Millisecond
	MaxBackoff  = 4 * time.Second
	// MaxRetryAfter is the longest Retry-After this package waits for inside
	// one call; a longer one is returned to the caller as rate limited.
	MaxRetryAfter = 30 * time.Second
)

// retryTransport retries idempotent requests (GET and HEAD without a body)
// that failed with 429, 408, 5xx or a connection failure: at most tries
// attempts in all, with capped exponential back-off and jitter, honouring
// Retry-After (seconds or an HTTP date), and never waiting past the
// request context's deadline. When no attempt is left, or the wait would
// outlast the deadline or MaxRetryAfter, the last response (or error) is
// returned for the caller to map to a typed error.
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
		var wait time.Duration
		switch {
		case err != nil:
			if !retryableNetError(err) {
				return nil, err
			}
			wait = backoff(attempt)
		case retryableStatus(resp.StatusCode):
			wait = backoff(attempt)
			if ra, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), t.clock.Now()); ok {
				if ra > MaxRetryAfter {
					return resp, nil
				}
				wait = max(wait, ra)
			}
		default:
			return resp, nil
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

func backoff(attempt int) time.Duration {
	d := min(BaseBackoff<<(attempt-1), MaxBackoff)
	// Equal jitter: half fixed, half random, so waits never collapse to zero.
	return d/2 + rand.N(d/2+1)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		code == http.StatusBadGateway || code == http.StatusServiceUnavailable ||
		code == http.StatusGatewayTimeout || code == http.StatusInternalServerError
}

// retryableNetError reports connection failures worth another attempt of an
// idempotent request: resets, unexpected EOFs, refused connections and
// timeouts of a single attempt. Context errors are not retried.
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

// ParseRetryAfter reads a Retry-After value in seconds or as an HTTP date
// relative to now.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func drain(resp *http.Response) {
	if resp.Body == http.NoBody {
		return // HEAD, 204, 304: nothing to read
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBody))
	_ = resp.Body.Close()
}

// Drain discards up to a small bound of resp's body and closes it so the
// connection can be reused.
func Drain(resp *http.Response) { drain(resp) }
