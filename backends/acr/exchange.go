package acr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

// maxExchangeBody bounds the exchange's answer.
const maxExchangeBody = 64 << 10

// exchange trades the Entra ID access token aad for an ACR refresh token:
// POST /oauth2/exchange with grant_type=access_token, service, tenant and
// access_token, answered 200 {"refresh_token": "..."} (Azure/acr,
// docs/AAD-OAuth.md, "Calling POST /oauth2/exchange to get an ACR refresh
// token"). tenant is the token's tid claim; it is left out when unknown.
func (e *entra) exchange(ctx context.Context, aad, tenant string) (string, error) {
	form := url.Values{"grant_type": {"access_token"}, "service": {e.host}, "access_token": {aad}}
	if tenant != "" {
		form.Set("tenant", tenant)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.exchangeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &registry.Error{Kind: registry.ErrInvalidConfig, Op: "token", Image: e.host, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.client().Do(req)
	if err != nil {
		// The URL holds no secret; the form, which does, is not in the error.
		return "", &registry.Error{Kind: registry.ErrUnavailable, Op: "token", Image: e.host, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxExchangeBody))
	if err != nil {
		return "", &registry.Error{Kind: registry.ErrUnavailable, Op: "token", Image: e.host, Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", &registry.Error{Kind: registry.ErrUnauthorized, Op: "token", Image: e.host, Hint: hint,
			Err: fmt.Errorf("POST /oauth2/exchange refused the Microsoft Entra ID token (%d)", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return "", &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: e.host,
			Err: fmt.Errorf("POST /oauth2/exchange answered %d", resp.StatusCode)}
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &out) != nil || out.RefreshToken == "" || strings.ContainsAny(out.RefreshToken, " \t\r\n") {
		return "", &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: e.host,
			Err: fmt.Errorf("POST /oauth2/exchange answered 200 without a refresh_token")}
	}
	return out.RefreshToken, nil
}
