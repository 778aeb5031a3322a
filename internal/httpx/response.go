package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// ReadBody reads at most limit bytes of resp's body and closes it. A longer
// body is an error matching registry.ErrTooLarge; memory stays bounded.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &registry.Error{Kind: registry.ErrTooLarge, Err: fmt.Errorf("body exceeds %d bytes", limit)}
	}
	return b, nil
}

// registryErrors is the distribution spec's error body.
type registryErrors struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// ResponseError maps a failed registry answer to a *registry.Error: 401 is
// unauthorized, 403 denied, 404 not found, 429 rate limited (with its
// Retry-After), 5xx unavailable, and anything else a bad response. The
// registry's error code and message are kept, shortened; the body is read
// within a small bound and closed. hint says how to fix an auth failure.
func ResponseError(resp *http.Response, op, image, hint string, now time.Time) *registry.Error {
	e := &registry.Error{Op: op, Image: image, StatusCode: resp.StatusCode}
	if resp.Request != nil && resp.Request.Method != http.MethodHead {
		body, _ := ReadBody(resp, MaxErrorBody)
		var re registryErrors
		if json.Unmarshal(body, &re) == nil && len(re.Errors) > 0 {
			e.Code = re.Errors[0].Code
			e.Detail = shorten(re.Errors[0].Message)
		}
	} else {
		drain(resp)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind, e.Hint = registry.ErrUnauthorized, hint
	case code == http.StatusForbidden:
		e.Kind, e.Hint = registry.ErrDenied, hint
	case code == http.StatusNotFound:
		e.Kind = registry.ErrNotFound
	case code == http.StatusTooManyRequests:
		e.Kind = registry.ErrRateLimited
		if ra, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			e.RetryAfter = ra
		}
	case code == http.StatusBadRequest && e.Code == "DENIED":
		// ECR Public answers an expired bearer token with 400 DENIED.
		e.Kind, e.Hint = registry.ErrUnauthorized, hint
	case code >= 500:
		e.Kind = registry.ErrUnavailable
	default:
		e.Kind = registry.ErrBadResponse
	}
	if e.Kind == registry.ErrNotFound && (e.Code == "NAME_UNKNOWN" || e.Code == "MANIFEST_UNKNOWN") {
		e.Detail = ""
	}
	return e
}

// TransportError wraps a failure to reach the registry.
func TransportError(err error, op, image string) error {
	var re *registry.Error
	if errors.As(err, &re) {
		return err
	}
	return &registry.Error{Kind: registry.ErrUnavailable, Op: op, Image: image, Err: err}
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
