package acrtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"
)

// EntraConfig configures an [Entra].
type EntraConfig struct {
	// Tenant, ClientID and Secret are the one service principal the
	// endpoint knows.
	Tenant, ClientID, Secret string
	// Lifetime is an access token's expires_in (default 1 h, the
	// client-credentials flow's usual 3599 s).
	Lifetime time.Duration
	// Now is the clock of the tokens' exp claim (default time.Now).
	Now func() time.Time
}

// EntraCounts are the requests an Entra received.
type EntraCounts struct {
	// Discovery is GET /<tenant>/v2.0/.well-known/openid-configuration;
	// Token is POST /<tenant>/oauth2/v2.0/token.
	Discovery, Token int64
}

// Entra imitates Microsoft Entra ID's authority over HTTPS (azidentity
// refuses a plain-HTTP authority host): the tenant's OpenID metadata, which
// MSAL reads before its first token request, and the client-credentials
// token endpoint. Point azidentity at it with AZURE_AUTHORITY_HOST=URL()
// and an HTTP client that trusts it ([Entra.Client]); instance discovery,
// which MSAL sends to login.microsoftonline.com for an authority it does
// not know, must be disabled (DisableInstanceDiscovery).
type Entra struct {
	cfg EntraConfig
	srv *httptest.Server

	discovery, token atomic.Int64
}

// NewEntra starts an Entra on loopback. Close it when done.
func NewEntra(cfg EntraConfig) *Entra {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Entra{cfg: cfg}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the authority host, "https://127.0.0.1:<port>/".
func (e *Entra) URL() string { return e.srv.URL + "/" }

// Client is an HTTP client that trusts the authority's certificate.
func (e *Entra) Client() *http.Client { return e.srv.Client() }

// Close stops the server.
func (e *Entra) Close() { e.srv.Close() }

// Counts returns the requests received so far.
func (e *Entra) Counts() EntraCounts {
	return EntraCounts{Discovery: e.discovery.Load(), Token: e.token.Load()}
}

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	base := e.srv.URL + "/" + e.cfg.Tenant
	switch r.URL.Path {
	case "/" + e.cfg.Tenant + "/v2.0/.well-known/openid-configuration":
		e.discovery.Add(1)
		// The OpenID Provider metadata MSAL reads (TenantDiscoveryResponse
		// in microsoft-authentication-library-for-go,
		// apps/internal/oauth/ops/authority/authority.go, which requires
		// authorization_endpoint, token_endpoint and issuer).
		writeJSON(w, http.StatusOK, map[string]any{
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"issuer":                 base + "/v2.0",
		})
	case "/" + e.cfg.Tenant + "/oauth2/v2.0/token":
		e.token.Add(1)
		e.serveToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveToken is the client-credentials grant: POST grant_type=client_credentials,
// client_id, client_secret and scope "<resource>/.default", answered
// {"token_type":"Bearer","expires_in":3599,"access_token":...}; a wrong
// secret is 401 {"error":"invalid_client",...} (Microsoft identity
// platform, "OAuth 2.0 client credentials flow", first case: access token
// request with a shared secret).
func (e *Entra) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	if f.Get("client_id") != e.cfg.ClientID || f.Get("client_secret") != e.cfg.Secret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided."})
		return
	}
	var resource string
	for _, s := range strings.Fields(f.Get("scope")) {
		if r, ok := strings.CutSuffix(s, "/.default"); ok {
			resource = r
		}
	}
	now := e.cfg.Now()
	// An Entra ID access token carries aud (the resource), tid (the
	// tenant), iat and exp.
	at := jwt(map[string]any{"aud": resource, "tid": e.cfg.Tenant, "appid": e.cfg.ClientID,
		"iat": now.Unix(), "exp": now.Add(e.cfg.Lifetime).Unix()})
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": int(e.cfg.Lifetime.Seconds()),
		"ext_expires_in": int(e.cfg.Lifetime.Seconds()), "access_token": at})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
