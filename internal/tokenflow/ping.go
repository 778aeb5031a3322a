// Package tokenflow implements the registry side of authentication: probing
// /v2/ for its challenge, the realm rules that decide where credentials may
// go, and the exchange of credentials for a bearer token, on top of
// go-containerregistry's transport.Ping and transport.Exchange.
package tokenflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/molecule-ai/registrykit/registry"
)

// Ping sends GET <scheme>://<host>/v2/ and returns the registry's challenge:
// Scheme "" when no authentication is needed, otherwise "Bearer" or "Basic"
// with the challenge's parameters. When several WWW-Authenticate headers
// arrive (Gitea 1.26 sends Bearer and Basic), Bearer wins. It costs one
// request.
func Ping(ctx context.Context, client *http.Client, host, scheme string) (*registry.Challenge, error) {
	reg, err := name.NewRegistry(host, name.WeakValidation)
	if err != nil {
		return nil, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "ping", Image: host, Err: err}
	}
	c, err := transport.Ping(ctx, reg, &pingTransport{inner: client.Transport, scheme: scheme})
	if err != nil {
		return nil, pingError(err, host)
	}
	auth := canonicalScheme(c.Scheme)
	if auth != "" && auth != "Bearer" && auth != "Basic" {
		return nil, &registry.Error{Kind: registry.ErrUnsupported, Op: "ping", Image: host,
			Err: fmt.Errorf("unrecognised authentication challenge %.40q; registrykit speaks Bearer and Basic", c.Scheme)}
	}
	params := make(map[string]string, len(c.Parameters))
	for k, v := range c.Parameters {
		params[strings.ToLower(k)] = v
	}
	return &registry.Challenge{Scheme: auth, Params: params, Insecure: scheme == "http"}, nil
}

func canonicalScheme(s string) string {
	switch strings.ToLower(s) {
	case "bearer":
		return "Bearer"
	case "basic":
		return "Basic"
	}
	return s
}

func pingError(err error, host string) error {
	var te *transport.Error
	if errors.As(err, &te) {
		e := &registry.Error{Kind: registry.ErrBadResponse, Op: "ping", Image: host, StatusCode: te.StatusCode,
			Err: errors.New("GET /v2/ answered neither 200 nor 401; is this an OCI registry?")}
		switch {
		case te.StatusCode == http.StatusTooManyRequests:
			e.Kind, e.Err = registry.ErrRateLimited, nil
		case te.StatusCode >= 500:
			e.Kind, e.Err = registry.ErrUnavailable, nil
		}
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &registry.Error{Kind: registry.ErrUnavailable, Op: "ping", Image: host, Err: err}
	}
	return &registry.Error{Kind: registry.ErrUnavailable, Op: "ping", Image: host, Err: err}
}

// pingTransport sends every ping with the scheme registrykit chose for the
// host (go-containerregistry would race https against http for some hosts),
// and puts Bearer challenges first so that go-containerregistry picks one
// when a registry offers both Bearer and Basic.
type pingTransport struct {
	inner  http.RoundTripper
	scheme string
}

func (t *pingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme = t.scheme
	resp, err := t.inner.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if v := resp.Header.Values("WWW-Authenticate"); len(v) > 1 {
		sorted := slices.Clone(v)
		slices.SortStableFunc(sorted, func(a, b string) int {
			return bearerRank(a) - bearerRank(b)
		})
		resp.Header["Www-Authenticate"] = sorted
	}
	return resp, nil
}

func bearerRank(h string) int {
	if len(h) >= 6 && strings.EqualFold(h[:6], "bearer") {
		return 0
	}
	return 1
}

// ChallengeFromRealm builds the Bearer challenge of a registry whose realm and
// service are known in advance (GHCR, Gitea, ECR Public), so the first
// request needs no ping.
func ChallengeFromRealm(realm, service string, insecure bool) *registry.Challenge {
	return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": realm, "service": service}, Insecure: insecure}
}

// String renders c for logs.
func String(c *registry.Challenge) string {
	if c == nil || c.Scheme == "" {
		return "none"
	}
	return fmt.Sprintf("%s realm=%q service=%q", c.Scheme, c.Params["realm"], c.Params["service"])
}
