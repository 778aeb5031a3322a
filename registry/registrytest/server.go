package registrytest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Mode selects the authentication the front imitates.
type Mode int

// The modes.
const (
	// Anonymous needs no authentication at all.
	Anonymous Mode = iota
	// GHCR: Bearer realm="<url>/token",service="<host>"; tokens are scoped
	// per repository and the response has no expires_in.
	GHCR
	// Gitea: Bearer realm="<url>/v2/token",service="container_registry",scope="*"
	// plus a Basic challenge; one JWT per user for every repository, with a
	// 24 h exp claim and no expires_in.
	Gitea
	// Distribution: Bearer realm="<url>/auth/token",service="registry";
	// scoped tokens with expires_in.
	Distribution
	// Basic: Basic realm="registry" (htpasswd).
	Basic
	// ECR: Basic with user AWS and a password issued by IssueECRPassword; an
	// expired password gets 403 with no challenge.
	ECR
	// ECRPublic: Bearer realm="<url>/token/",service="<host>",scope="aws"
	// (public.ecr.aws's challenge, trailing slash included; oras-project/oras-go
	// #1227), tokens without expires_in, and an unknown or expired token
	// answered 400 {"errors":[{"code":"DENIED","message":"Your Authorization
	// Token is invalid."}]} (the same report). Whether the real token service
	// scopes tokens per repository is not documented; this one does.
	ECRPublic
	// GitLab: Bearer realm="<url>/jwt/auth",service="container_registry"
	// (plus scope="repository:<path>:pull" on a repository) — on
	// registry.gitlab.com the realm is https://gitlab.com/jwt/auth, another
	// host (gitlab-foss #26265; dotnet/sdk-container-builds #284). The token
	// body is only {"token": <JWT>} whose exp is the expire delay, 5 minutes
	// by default (app/services/auth/container_registry_authentication_service.rb,
	// token_expire_at); an anonymous request for a private project is 403
	// DENIED "access forbidden" there.
	GitLab
	// Harbor: Bearer realm="<url>/service/token",service="harbor-registry"
	// (src/server/middleware/v2auth/auth.go, getChallenge, in goharbor/harbor);
	// the token body is {"token","access_token":"","expires_in":1800,"issued_at"}
	// (src/core/service/token/authutils.go, MakeToken; token_expiration
	// defaults to 30 minutes).
	Harbor
	// Quay: Bearer realm="<url>/v2/auth",service="<host>" (quay.io:
	// realm="https://quay.io/v2/auth",service="quay.io"; endpoints/v2/__init__.py
	// and auth/registry_jwt_auth.py in quay/quay); the token body is only
	// {"token": <JWT>} valid 3600 s (endpoints/v2/v2auth.py,
	// TOKEN_VALIDITY_LIFETIME_S). Robot accounts log in as "namespace+robot".
	Quay
)

// Config configures a Server.
type Config struct {
	Mode Mode
	// Users maps user names to passwords for modes with credentials.
	Users map[string]string
	// AllowAnonymous lets the token endpoint issue pull tokens without
	// credentials (public images).
	AllowAnonymous bool
	// TokenLifetime is how long issued tokens live (default: 60 s for GHCR,
	// 24 h for Gitea, 5 min for Distribution and GitLab, 30 min for Harbor,
	// 1 h for Quay).
	TokenLifetime time.Duration
	// Now is the server's clock (default time.Now).
	Now func() time.Time
	// MultiScope, when set, says whether the token service reads every
	// scope parameter of a token request (true) or only the first (false);
	// nil follows the mode (see the modes above).
	MultiScope *bool
	// OutOfScopeStatus answers a valid token that does not cover the
	// repository: 401 UNAUTHORIZED with a challenge (the default, as the
	// distribution registry's token access controller answers), or 403
	// DENIED. What ghcr.io answers is not documented.
	OutOfScopeStatus int
	// RejectStatus is the status answering an unknown or expired bearer
	// token (default 401 with a challenge; ECR Public answers 400 DENIED).
	RejectStatus int
	// RefuseDirectPAT makes GHCR mode refuse a personal access token sent
	// straight to /v2/ as Bearer base64(user:PAT), which ghcr.io accepts
	// (argoproj-labs/argocd-image-updater #303, updatecli/updatecli #245).
	// The refusal is ghcr.io's answer to a bearer value it does not take:
	// 403 {"errors":[{"code":"DENIED","message":"invalid token"}]}
	// (argoproj-labs/argocd-image-updater #276, #303).
	RefuseDirectPAT bool
	// Denied, when set, names repositories an authenticated caller may not
	// pull: the answer is 403 DENIED, as ECR answers an IAM or
	// repository-policy denial — the same status as an expired token, which
	// is why a client cannot tell them apart on a HEAD (users report the
	// 403 Forbidden; AWS does not document the body's text).
	Denied func(repo string) bool
	// Intercept, when set, sees every request first; returning true means it
	// answered and the front does nothing more (fault injection).
	Intercept func(w http.ResponseWriter, r *http.Request) bool
	// PullLimit, when set, imitates Docker Hub's pull rate limit: every
	// authorized manifest answer carries "ratelimit-limit: N;w=21600" and
	// "ratelimit-remaining: M;w=21600", a manifest GET counts as a pull and a
	// HEAD does not, and a GET with no pull left is answered 429
	// TOOMANYREQUESTS (docs.docker.com/docker-hub/usage/pulls, "View pull
	// rate and limit"; a captured Docker Hub HEAD answer shows
	// "ratelimit-limit: 100;w=21600" and "ratelimit-remaining: 0;w=21600").
	// The window never ends here.
	PullLimit int
}

// Counts is a snapshot of the requests a Server received.
type Counts struct {
	Ping, Token, Head, Get, Other int64
	// Rejected counts the refusals (401, 403, 400) the server sent to any
	// request but a ping: manifests, blobs and token requests.
	Rejected int64
}

// Manifests returns Head + Get.
func (c Counts) Manifests() int64 { return c.Head + c.Get }

// Total returns every request counted.
func (c Counts) Total() int64 { return c.Ping + c.Token + c.Head + c.Get + c.Other }

// Server is a running test registry.
type Server struct {
	cfg     Config
	front   *httptest.Server
	backing *httptest.Server

	ping, token, head, get, other, rejected atomic.Int64
	conns                                   atomic.Int64
	pulls                                   atomic.Int64 // manifest GETs counted against PullLimit

	mu       sync.Mutex
	tokens   map[string]issued
	everTok  []string
	ecrPass  map[string]time.Time
	scopesMu sync.Mutex
	scopes   map[string]int
}

type issued struct {
	repos   []string // nil for every repository
	expires time.Time
}

// NewServer starts a Server on loopback. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenLifetime == 0 {
		switch cfg.Mode {
		case Gitea:
			cfg.TokenLifetime = 24 * time.Hour
		case GitLab:
			cfg.TokenLifetime = 5 * time.Minute
		case Harbor:
			cfg.TokenLifetime = 30 * time.Minute
		case Quay:
			cfg.TokenLifetime = time.Hour
		case Distribution:
			cfg.TokenLifetime = 5 * time.Minute
		default:
			cfg.TokenLifetime = 60 * time.Second
		}
	}
	s := &Server{cfg: cfg, tokens: map[string]issued{}, ecrPass: map[string]time.Time{}, scopes: map[string]int{}}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s.backing = httptest.NewServer(reg)
	s.front = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, reg)
	}))
	s.front.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.front.Start()
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.front.Close()
	s.backing.Close()
}

// URL returns the front's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.front.URL }

// Host returns the front's "127.0.0.1:port".
func (s *Server) Host() string { return strings.TrimPrefix(s.front.URL, "http://") }

// Client returns an HTTP client for the front.
func (s *Server) Client() *http.Client { return s.front.Client() }

// Counts returns the requests counted so far.
func (s *Server) Counts() Counts {
	return Counts{Ping: s.ping.Load(), Token: s.token.Load(), Head: s.head.Load(), Get: s.get.Load(), Other: s.other.Load(), Rejected: s.rejected.Load()}
}

// Conns returns how many TCP connections the front has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// TokenRequests returns how many token requests named each scope.
func (s *Server) TokenRequests() map[string]int {
	s.scopesMu.Lock()
	defer s.scopesMu.Unlock()
	return maps.Clone(s.scopes)
}

// ResetCounts zeroes the counters, connections included.
func (s *Server) ResetCounts() {
	for _, c := range []*atomic.Int64{&s.ping, &s.token, &s.head, &s.get, &s.other, &s.rejected, &s.conns} {
		c.Store(0)
	}
	s.scopesMu.Lock()
	s.scopes = map[string]int{}
	s.scopesMu.Unlock()
}

// Push writes img as repo:tag (repo is the full path, "org/name") straight
// into the backing registry, without auth and without being counted, and
// returns its digest.
func (s *Server) Push(repo, tag string, img v1.Image) (v1.Hash, error) {
	ref, err := s.backingTag(repo, tag)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

// PushIndex writes idx as repo:tag like Push.
func (s *Server) PushIndex(repo, tag string, idx v1.ImageIndex) (v1.Hash, error) {
	ref, err := s.backingTag(repo, tag)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// backingTag names repo:tag on the backing registry, which writes bypass.
func (s *Server) backingTag(repo, tag string) (name.Tag, error) {
	return name.NewTag(strings.TrimPrefix(s.backing.URL, "http://")+"/"+repo+":"+tag, name.Insecure)
}

// IssueECRPassword returns a new password for user AWS that the ECR mode
// accepts until expires.
func (s *Server) IssueECRPassword(expires time.Time) string {
	pw := randomString(24)
	s.AddECRPassword(pw, expires)
	return pw
}

// AddECRPassword makes the ECR mode accept pw until expires.
func (s *Server) AddECRPassword(pw string, expires time.Time) {
	s.mu.Lock()
	s.ecrPass[pw] = expires
	s.mu.Unlock()
}

// ecrPassword returns when pw expires, and whether it was ever issued.
func (s *Server) ecrPassword(pw string) (expires time.Time, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	expires, known = s.ecrPass[pw]
	return expires, known
}

func (s *Server) liveECRPassword(pw string) bool {
	exp, known := s.ecrPassword(pw)
	return known && s.cfg.Now().Before(exp)
}

// validUser reports whether user and pass are a configured user's.
func (s *Server) validUser(user, pass string) bool {
	return pass != "" && s.cfg.Users[user] == pass
}

// IssuedTokens returns every token and ECR password ever issued, for tests
// that check no secret leaks into logs or errors.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append(make([]string, 0, len(s.everTok)+len(s.ecrPass)), s.everTok...)
	for p := range s.ecrPass {
		out = append(out, p)
	}
	return out
}

// RevokeTokens forgets every issued token, as a registry does when a
// credential is revoked.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]issued{}
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, reg http.Handler) {
	if s.cfg.Intercept != nil && s.cfg.Intercept(w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case path == "/token" && s.cfg.Mode == GHCR,
		(path == "/token/" || path == "/token") && s.cfg.Mode == ECRPublic,
		path == "/v2/token" && s.cfg.Mode == Gitea,
		path == "/auth/token" && s.cfg.Mode == Distribution,
		path == "/jwt/auth" && s.cfg.Mode == GitLab,
		path == "/service/token" && s.cfg.Mode == Harbor,
		path == "/v2/auth" && s.cfg.Mode == Quay:
		s.token.Add(1)
		s.serveToken(w, r)
		return
	case isPing(path):
		s.ping.Add(1)
	case strings.Contains(path, "/manifests/") && r.Method == http.MethodHead:
		s.head.Add(1)
	case strings.Contains(path, "/manifests/") && r.Method == http.MethodGet:
		s.get.Add(1)
	default:
		s.other.Add(1)
	}
	if !s.authorized(w, r) {
		return
	}
	if s.cfg.PullLimit > 0 && strings.Contains(path, "/manifests/") && !s.pullAllowed(w, r) {
		return
	}
	reg.ServeHTTP(w, r)
}

// pullAllowed sets Docker Hub's rate-limit headers on a manifest answer and
// counts a GET as a pull; it answers 429 itself when no pull is left.
func (s *Server) pullAllowed(w http.ResponseWriter, r *http.Request) bool {
	limit := int64(s.cfg.PullLimit)
	used := s.pulls.Load()
	if r.Method == http.MethodGet {
		if used >= limit {
			w.Header().Set("ratelimit-limit", strconv.FormatInt(limit, 10)+";w=21600")
			w.Header().Set("ratelimit-remaining", "0;w=21600")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "TOOMANYREQUESTS",
				"message": "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}}})
			return false
		}
		used = s.pulls.Add(1)
	}
	w.Header().Set("ratelimit-limit", strconv.FormatInt(limit, 10)+";w=21600")
	w.Header().Set("ratelimit-remaining", strconv.FormatInt(max(limit-used, 0), 10)+";w=21600")
	return true
}

// repoOf returns the repository a /v2/<repo>/manifests|blobs|tags path names.
func repoOf(path string) string {
	p := strings.TrimPrefix(path, "/v2/")
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(p, sep); i >= 0 {
			return p[:i]
		}
	}
	return ""
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	switch s.cfg.Mode {
	case GHCR:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="%s",scope="repository:%s:pull"`, base, r.Host, repoOf(r.URL.Path)))
	case Gitea:
		w.Header().Add("WWW-Authenticate", `Basic realm="Gitea Container Registry"`)
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/v2/token",service="container_registry",scope="*"`, base))
	case ECRPublic:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token/",service="%s",scope="aws"`, base, r.Host))
	case GitLab, Harbor, Quay:
		realm := base + map[Mode]string{GitLab: "/jwt/auth", Harbor: "/service/token", Quay: "/v2/auth"}[s.cfg.Mode]
		h := fmt.Sprintf(`Bearer realm="%s",service="%s"`, realm, s.cfg.service(r))
		if repo := repoOf(r.URL.Path); repo != "" {
			h += fmt.Sprintf(`,scope="repository:%s:pull"`, repo)
		}
		w.Header().Set("WWW-Authenticate", h)
	case Distribution:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/auth/token",service="registry"`, base))
	case Basic:
		w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
	case ECR:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="https://%s/",service="ecr.amazonaws.com"`, r.Host))
	}
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if !isPing(r.URL.Path) {
		s.rejected.Add(1)
	}
	if status == http.StatusUnauthorized {
		s.challenge(w, r)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	now := s.cfg.Now()
	authz := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(authz, " ")
	switch s.cfg.Mode {
	case Anonymous:
		return true
	case Basic:
		if user, pass, ok := r.BasicAuth(); ok && s.validUser(user, pass) {
			return true
		}
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	case ECR:
		user, pass, ok := r.BasicAuth()
		if !ok || user != "AWS" {
			s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return false
		}
		exp, known := s.ecrPassword(pass)
		switch {
		case !known:
			s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return false
		case !now.Before(exp):
			s.deny(w, r, http.StatusForbidden, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
			return false
		}
		return s.allowed(w, r)
	}
	// Bearer modes.
	if !strings.EqualFold(scheme, "bearer") {
		if s.cfg.Mode == Gitea {
			if user, pass, ok := r.BasicAuth(); ok && s.validUser(user, pass) {
				return true
			}
		}
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	}
	if s.cfg.Mode == GHCR && s.directPAT(cred) {
		if s.cfg.RefuseDirectPAT {
			s.deny(w, r, http.StatusForbidden, "DENIED", "invalid token")
			return false
		}
		return s.allowed(w, r)
	}
	s.mu.Lock()
	t, ok := s.tokens[cred]
	s.mu.Unlock()
	repo := repoOf(r.URL.Path)
	switch {
	case (!ok || !now.Before(t.expires)) && (s.cfg.RejectStatus == http.StatusBadRequest || s.cfg.Mode == ECRPublic):
		s.deny(w, r, http.StatusBadRequest, "DENIED", "Your Authorization Token is invalid.")
		return false
	case !ok || !now.Before(t.expires):
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	case t.repos != nil && repo != "" && !slices.Contains(t.repos, repo) && s.cfg.OutOfScopeStatus == http.StatusForbidden:
		s.deny(w, r, http.StatusForbidden, "DENIED", "token does not cover this repository")
		return false
	case t.repos != nil && repo != "" && !slices.Contains(t.repos, repo):
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "token does not cover this repository")
		return false
	}
	return s.allowed(w, r)
}

// directPAT reports whether cred is base64(user:password) of a configured
// user: GHCR's direct use of a PAT as a bearer token.
func (s *Server) directPAT(cred string) bool {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	return ok && s.validUser(user, pass)
}

// allowed applies Config.Denied to an authenticated request.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request) bool {
	if repo := repoOf(r.URL.Path); repo != "" && s.cfg.Denied != nil && s.cfg.Denied(repo) {
		s.deny(w, r, http.StatusForbidden, "DENIED", "User is not authorized to perform: ecr:BatchGetImage on this repository")
		return false
	}
	return true
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	scopes := r.URL.Query()["scope"]
	if !s.cfg.readsAllScopes() && len(scopes) > 1 {
		scopes = scopes[:1] // a service not known to honour several: the first
	}
	s.scopesMu.Lock()
	for _, scope := range scopes {
		s.scopes[scope]++
	}
	if len(scopes) == 0 {
		s.scopes[""]++
	}
	s.scopesMu.Unlock()
	user, pass, hasAuth := r.BasicAuth()
	switch {
	case hasAuth && user == "AWS" && s.liveECRPassword(pass):
	case hasAuth && !s.validUser(user, pass):
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "bad credentials")
		return
	case !hasAuth && !s.cfg.AllowAnonymous && s.cfg.Mode == GitLab:
		s.deny(w, r, http.StatusForbidden, "DENIED", "access forbidden")
		return
	case !hasAuth && !s.cfg.AllowAnonymous:
		s.deny(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	want := s.cfg.service(r)
	if s.cfg.Mode != Gitea && r.URL.Query().Get("service") != want {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"wrong service"}]}`, http.StatusBadRequest)
		return
	}
	now := s.cfg.Now()
	exp := now.Add(s.cfg.TokenLifetime)
	var repos []string
	if s.cfg.Mode != Gitea {
		if len(scopes) == 0 {
			s.deny(w, r, http.StatusUnauthorized, "DENIED", "scope required")
			return
		}
		for _, scope := range scopes {
			parts := strings.Split(scope, ":")
			if len(parts) != 3 || parts[0] != "repository" {
				s.deny(w, r, http.StatusUnauthorized, "DENIED", "scope required")
				return
			}
			repos = append(repos, parts[1])
		}
	}
	tok := randomString(32)
	switch s.cfg.Mode {
	case Gitea, GitLab, Quay:
		tok = fakeJWT(exp)
	}
	s.mu.Lock()
	s.tokens[tok] = issued{repos: repos, expires: exp}
	s.everTok = append(s.everTok, tok)
	s.mu.Unlock()
	body := map[string]any{"token": tok}
	switch s.cfg.Mode {
	case Distribution:
		body["access_token"] = tok
		body["expires_in"] = int(s.cfg.TokenLifetime / time.Second)
		body["issued_at"] = now.UTC().Format(time.RFC3339)
	case Harbor:
		body["access_token"] = "" // Harbor's field is always empty
		body["expires_in"] = int(s.cfg.TokenLifetime / time.Second)
		body["issued_at"] = now.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// readsAllScopes reports whether the token service reads every scope
// parameter of a request. By default it follows the mode: the
// distribution token spec allows several scope parameters
// (docs/content/spec/auth/scope.md in distribution/distribution), and
// GitLab (jwt_controller.rb, scopes_param), Harbor (parseScopes) and Quay
// (endpoints/v2/v2auth.py, getlist("scope")) read them all. For ghcr.io and
// ECR Public the sources are silent: those modes read the first, as some
// token services do (cesanta/docker_auth #67 before its fix; GitLab once
// kept one, estesp/manifest-tool #53).
func (c Config) readsAllScopes() bool {
	if c.MultiScope != nil {
		return *c.MultiScope
	}
	switch c.Mode {
	case Distribution, GitLab, Harbor, Quay:
		return true
	}
	return false
}

// service returns the service name the token endpoint expects.
func (c Config) service(r *http.Request) string {
	switch c.Mode {
	case GHCR, ECRPublic, Quay:
		return r.Host
	case Gitea, GitLab:
		return "container_registry"
	case Harbor:
		return "harbor-registry"
	default:
		return "registry"
	}
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fakeJWT returns a token shaped like a JWT whose payload carries exp. It is
// not signed: the client only reads exp for caching.
func fakeJWT(exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload := enc.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"nbf":%d,"jti":%q}`, exp.Unix(), exp.Add(-24*time.Hour).Unix(), randomString(8))))
	return header + "." + payload + "." + enc.EncodeToString([]byte(randomString(16)))
}

// isPing reports whether path is the /v2/ endpoint.
func isPing(path string) bool { return path == "/v2/" || path == "/v2" }
