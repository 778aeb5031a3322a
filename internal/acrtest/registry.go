package acrtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// RegistryConfig configures a [Registry].
type RegistryConfig struct {
	// Now is the registry's clock (default time.Now).
	Now func() time.Time
	// RefreshLifetime is the life of an ACR refresh token (default 3 h:
	// learn.microsoft.com, container-registry-authentication, the token of
	// az acr login --expose-token "is valid for 3 hours").
	RefreshLifetime time.Duration
	// AccessLifetime is the life of an ACR access token (default 75 min:
	// the access token claim set of Azure/acr docs/AAD-OAuth.md has
	// exp - iat = 1497993407 - 1497988907 = 4500 s).
	AccessLifetime time.Duration
	// Tenant is the Entra ID tenant whose access tokens the exchange
	// takes (their tid claim and the form's tenant).
	Tenant string
	// Audience is the aud an Entra ID access token must carry.
	Audience string
	// Users are Basic credentials GET /oauth2/token accepts: the admin user
	// or a repository-scoped token (Azure/acr docs/Token-BasicAuth.md).
	Users map[string]string
	// AllowAnonymous lets GET /oauth2/token issue pull tokens without
	// credentials (a registry with anonymous pull enabled).
	AllowAnonymous bool
}

// RegistryCounts are the requests a Registry received.
type RegistryCounts struct {
	// Ping is GET /v2/; Exchange is POST /oauth2/exchange; Token is any
	// /oauth2/token request; Head is a manifest HEAD, answered or refused.
	Ping, Exchange, Token, Head int64
	// Rejected counts the 401s sent (token endpoints and manifests).
	Rejected int64
}

// Registry is a test registry behind ACR's authentication.
type Registry struct {
	*registrytest.Server
	cfg RegistryConfig

	ping, exchange, token, head, rejected atomic.Int64

	mu      sync.Mutex
	refresh map[string]time.Time // refresh token -> expiry
	access  map[string]grant     // access token -> what it allows
	seq     int
}

type grant struct {
	repos   []string
	expires time.Time
}

// NewRegistry starts a Registry on loopback. Close it when done.
func NewRegistry(cfg RegistryConfig) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshLifetime == 0 {
		cfg.RefreshLifetime = 3 * time.Hour
	}
	if cfg.AccessLifetime == 0 {
		cfg.AccessLifetime = 75 * time.Minute
	}
	r := &Registry{cfg: cfg, refresh: map[string]time.Time{}, access: map[string]grant{}}
	r.Server = registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous, Now: cfg.Now, Intercept: r.intercept})
	return r
}

// Counts returns the requests received so far.
func (r *Registry) Counts() RegistryCounts {
	return RegistryCounts{Ping: r.ping.Load(), Exchange: r.exchange.Load(), Token: r.token.Load(), Head: r.head.Load(), Rejected: r.rejected.Load()}
}

// intercept answers ACR's token endpoints and refuses a /v2/ request
// without a valid access token; it lets the test registry serve the rest.
func (r *Registry) intercept(w http.ResponseWriter, req *http.Request) bool {
	switch p := req.URL.Path; {
	case p == "/oauth2/exchange":
		r.exchange.Add(1)
		r.serveExchange(w, req)
		return true
	case p == "/oauth2/token":
		r.token.Add(1)
		r.serveToken(w, req)
		return true
	case p == "/v2/" || p == "/v2":
		r.ping.Add(1)
		r.challenge(w, "")
		return true
	case strings.HasPrefix(p, "/v2/"):
		repo, _, _ := strings.Cut(strings.TrimPrefix(p, "/v2/"), "/manifests/")
		if req.Method == http.MethodHead && strings.Contains(p, "/manifests/") {
			r.head.Add(1)
		}
		if !r.allows(req, repo) {
			r.challenge(w, repo)
			return true
		}
		return false
	}
	return false
}

// challenge answers 401 with ACR's challenge: Bearer
// realm="https://<registry>/oauth2/token",service="<registry>" and, on a
// repository, scope="repository:<repo>:pull", with the body
// {"errors":[{"code":"UNAUTHORIZED","message":"authentication required",...}]}
// (Azure/acr docs/AAD-OAuth.md and docs/Token-BasicAuth.md).
func (r *Registry) challenge(w http.ResponseWriter, repo string) {
	r.rejected.Add(1)
	c := fmt.Sprintf(`Bearer realm="%s/oauth2/token",service="%s"`, r.URL(), r.Host())
	if repo != "" {
		c += fmt.Sprintf(`,scope="repository:%s:pull"`, repo)
	}
	w.Header().Set("Www-Authenticate", c)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":%q,"Action":"pull"}]}]}`, repo)
}

// allows reports whether req carries a live access token covering repo.
func (r *Registry) allows(req *http.Request, repo string) bool {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	r.mu.Lock()
	g, known := r.access[tok]
	r.mu.Unlock()
	if !known || !r.cfg.Now().Before(g.expires) {
		return false
	}
	for _, allowed := range g.repos {
		if allowed == repo {
			return true
		}
	}
	return false
}

// refuse answers a token endpoint's 401.
func (r *Registry) refuse(w http.ResponseWriter, msg string) {
	r.rejected.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":%q}]}`, msg)
}

// badRequest answers a malformed token request.
func badRequest(w http.ResponseWriter, msg string) {
	http.Error(w, msg, http.StatusBadRequest)
}

// serveExchange is POST /oauth2/exchange: a form with grant_type=access_token,
// service (the registry), tenant (the Entra ID tenant) and access_token,
// answered 200 {"refresh_token": "..."} (Azure/acr docs/AAD-OAuth.md,
// "Calling POST /oauth2/exchange to get an ACR refresh token").
func (r *Registry) serveExchange(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.ParseForm() != nil {
		badRequest(w, "POST a form")
		return
	}
	f := req.PostForm
	if f.Get("grant_type") != "access_token" || f.Get("service") != r.Host() {
		badRequest(w, "grant_type must be access_token and service the registry")
		return
	}
	// The Entra ID token's exp is not checked: MSAL caches it by the
	// system clock, which the tests' registry clock runs ahead of.
	c := claimsOf(f.Get("access_token"))
	if c == nil || c["tid"] != r.cfg.Tenant || f.Get("tenant") != r.cfg.Tenant || c["aud"] != r.cfg.Audience {
		r.refuse(w, "invalid Microsoft Entra ID access token")
		return
	}
	now := r.cfg.Now()
	// The refresh token's claim set (AAD-OAuth.md, "Azure Container
	// Registry token claim sets"): iss, aud the registry, grant_type
	// refresh_token, tenant, exp.
	r.mu.Lock()
	r.seq++
	rt := jwt(map[string]any{"jti": fmt.Sprint("rt-", r.seq), "iss": "Azure Container Registry", "aud": r.Host(),
		"grant_type": "refresh_token", "tenant": r.cfg.Tenant, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(r.cfg.RefreshLifetime).Unix(), "version": "1.0"})
	r.refresh[rt] = now.Add(r.cfg.RefreshLifetime)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"refresh_token": rt})
}

// serveToken is /oauth2/token: POST grant_type=refresh_token with service,
// scope (one or more) and refresh_token (AAD-OAuth.md, "Calling POST
// /oauth2/token to get an ACR access token"), or GET ?service=&scope= with
// Basic credentials (Token-BasicAuth.md) or none on a registry that allows
// anonymous pull; answered 200 {"access_token": "..."}.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		badRequest(w, "bad form")
		return
	}
	f := req.Form
	if f.Get("service") != r.Host() {
		badRequest(w, "service must be the registry")
		return
	}
	switch {
	case req.Method == http.MethodPost:
		if f.Get("grant_type") != "refresh_token" {
			badRequest(w, "grant_type must be refresh_token")
			return
		}
		r.mu.Lock()
		exp, ok := r.refresh[f.Get("refresh_token")]
		r.mu.Unlock()
		if !ok || !r.cfg.Now().Before(exp) {
			r.refuse(w, "invalid or expired refresh token")
			return
		}
	case req.Method == http.MethodGet:
		user, pass, basic := req.BasicAuth()
		switch {
		case basic && r.cfg.Users[user] == pass && pass != "":
		case !basic && r.cfg.AllowAnonymous:
		default:
			r.refuse(w, "authentication required")
			return
		}
	default:
		badRequest(w, "GET or POST")
		return
	}
	var repos []string
	for _, s := range f["scope"] {
		for _, one := range strings.Fields(s) {
			if name, ok := strings.CutPrefix(one, "repository:"); ok {
				if i := strings.LastIndex(name, ":"); i >= 0 {
					repos = append(repos, name[:i])
				}
			}
		}
	}
	now := r.cfg.Now()
	r.mu.Lock()
	r.seq++
	// The access token's claim set (AAD-OAuth.md): grant_type access_token,
	// access [{type, name, actions}], exp.
	at := jwt(map[string]any{"jti": fmt.Sprint("at-", r.seq), "iss": "Azure Container Registry", "aud": r.Host(),
		"grant_type": "access_token", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(r.cfg.AccessLifetime).Unix(), "version": "1.0"})
	r.access[at] = grant{repos: repos, expires: now.Add(r.cfg.AccessLifetime)}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": at})
}
