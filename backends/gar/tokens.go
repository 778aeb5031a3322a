package gar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/compute/metadata"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// tokens fetches one access token per backend; the engine caches it until
// ahead of its expiry and calls fetch again then.
type tokens struct {
	host   string
	static oauth2.TokenSource // Config.TokenSource
	env    registry.Env
	now    func() time.Time
	log    *slog.Logger
	meta   *metadata.Client // the backend's, logging through log
}

// newTokens returns the token fetcher of one backend; it does no I/O.
func newTokens(host string, static oauth2.TokenSource, o *registry.Options) *tokens {
	log := o.Log()
	return &tokens{host: host, static: static, env: o.Env, now: o.Now().Now, log: log,
		meta: metadata.NewWithOptions(&metadata.Options{Logger: slog.New(redacting{log.Handler()})})}
}

// fetch returns a fresh access token, sent as Bearer. Application Default
// Credentials are resolved anew on each call: the oauth2/google sources
// cache their token until 10 s before its expiry, so a source kept from the
// last fetch would hand the engine's early refresh the same token again; a
// new one asks Google, and picks up a rotated key file on the way.
func (t *tokens) fetch(ctx context.Context) (*oauth2.Token, error) {
	ts := t.static
	if ts == nil {
		var err error
		if ts, err = defaultSource(ctx, t.env, t.meta); err != nil {
			return nil, t.fail(ctx, err)
		}
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, t.fail(ctx, err)
	}
	if tok.AccessToken == "" {
		return nil, t.fail(ctx, errors.New("the token source returned an empty access token"))
	}
	out := &oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"}
	if !tok.Expiry.IsZero() {
		// oauth2 dates the expiry by the process clock; the engine's cache
		// reads the backend's.
		out.Expiry = t.now().Add(time.Until(tok.Expiry))
	}
	t.log.DebugContext(ctx, "Google access token", "registry", t.host, "expires", out.Expiry)
	return out, nil
}

// fail classifies err from resolving credentials or fetching a token.
func (t *tokens) fail(ctx context.Context, err error) error {
	e := &registry.Error{Op: "token", Image: t.host, Err: err, Kind: registry.ErrUnauthorized, Hint: hint}
	var cfg *registry.ConfigError
	var re *oauth2.RetrieveError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Hint = registry.ErrUnavailable, ""
	case errors.As(err, &cfg):
		e.Kind, e.Hint = registry.ErrInvalidConfig, cfg.Fix
	case errors.As(err, &re):
		// The token endpoint's error code and description carry no secret;
		// the raw body is not repeated.
		e.Err = fmt.Errorf("the Google token endpoint answered %d %s: %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
		if re.Response.StatusCode >= 500 {
			e.Kind = registry.ErrUnavailable
		}
	}
	return e
}
