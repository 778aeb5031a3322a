package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// Registry plugins: storage and auth.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Auth selects how the registry authenticates.
type Auth int

// The auth modes.
const (
	TokenAuth Auth = iota
	HtpasswdAuth
)

// Issuer is the token issuer the registry trusts.
const Issuer = "registrykit-e2e"

// Registry is a CNCF distribution registry on loopback, with its token server
// (token auth) on the same host:port, counting requests.
type Registry struct {
	Users map[string]string
	// Intercept, when set, sees every request first; returning true means it
	// answered (fault injection).
	Intercept func(w http.ResponseWriter, r *http.Request) bool

	srv         *httptest.Server
	service     string
	key         *ecdsa.PrivateKey
	cert        []byte // DER
	TokenLife   time.Duration
	ping, token atomic.Int64
	head, get   atomic.Int64
	other       atomic.Int64

	mu    sync.Mutex
	repos map[string]bool
}

// Counts is a snapshot of the requests received.
type Counts struct{ Ping, Token, Head, Get int64 }

func init() { logrus.SetOutput(io.Discard) }

// Start runs a registry with the given auth and users. dir holds its files.
// notify configures the registry's notification endpoints, if any.
func Start(auth Auth, users map[string]string, dir string, notify ...configuration.Endpoint) (*Registry, error) {
	r := &Registry{Users: users, TokenLife: 5 * time.Minute, repos: map[string]bool{}}
	r.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + r.srv.Listener.Addr().String()
	r.service = r.srv.Listener.Addr().String()

	cfg := &configuration.Configuration{}
	cfg.Log.Level = "panic"
	cfg.Notifications.Endpoints = notify
	cfg.Storage = configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}
	switch auth {
	case TokenAuth:
		if err := r.makeKey(); err != nil {
			return nil, err
		}
		bundle := filepath.Join(dir, "root.pem")
		if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.cert}), 0o600); err != nil {
			return nil, err
		}
		cfg.Auth = configuration.Auth{"token": configuration.Parameters{
			"realm": base + "/token", "service": r.service, "issuer": Issuer, "rootcertbundle": bundle,
		}}
	case HtpasswdAuth:
		path := filepath.Join(dir, "htpasswd")
		var lines []string
		for u, p := range users {
			h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				return nil, err
			}
			lines = append(lines, u+":"+string(h))
		}
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "registrykit-e2e", "path": path}}
	}
	app := handlers.NewApp(context.Background(), cfg)
	r.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.Intercept != nil && r.Intercept(w, req) {
			return
		}
		switch p := req.URL.Path; {
		case auth == TokenAuth && p == "/token":
			r.token.Add(1)
			r.serveToken(w, req, false)
			return
		case auth == TokenAuth && p == "/v2/token":
			r.token.Add(1)
			r.serveToken(w, req, true)
			return
		case p == "/v2/" || p == "/v2":
			r.ping.Add(1)
		case strings.Contains(p, "/manifests/") && req.Method == http.MethodHead:
			r.head.Add(1)
		case strings.Contains(p, "/manifests/") && req.Method == http.MethodGet:
			r.get.Add(1)
		default:
			r.other.Add(1)
		}
		app.ServeHTTP(w, req)
	})
	r.srv.Start()
	return r, nil
}

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

// Host returns "127.0.0.1:port".
func (r *Registry) Host() string { return r.service }

// Counts returns the requests counted so far.
func (r *Registry) Counts() Counts {
	return Counts{Ping: r.ping.Load(), Token: r.token.Load(), Head: r.head.Load(), Get: r.get.Load()}
}

// Reset zeroes the counters.
func (r *Registry) Reset() {
	for _, c := range []*atomic.Int64{&r.ping, &r.token, &r.head, &r.get, &r.other} {
		c.Store(0)
	}
}

// AddRepository records a repository for Gitea-style tokens, which cover
// every repository of the user.
func (r *Registry) AddRepository(name string) {
	r.mu.Lock()
	r.repos[name] = true
	r.mu.Unlock()
}

func (r *Registry) makeKey() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: Issuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	r.key, r.cert = key, der
	return nil
}

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// serveToken implements the distribution token spec: Basic credentials in,
// a JWT signed by the key the registry trusts (x5c header) out. In Gitea
// style the token covers every known repository and the response carries no
// expires_in, as Gitea's does.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request, giteaStyle bool) {
	user, pass, ok := req.BasicAuth()
	if !ok || pass == "" || r.Users[user] != pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
		return
	}
	var grants []access
	if giteaStyle {
		r.mu.Lock()
		for name := range r.repos {
			grants = append(grants, access{Type: "repository", Name: name, Actions: []string{"pull"}})
		}
		r.mu.Unlock()
	} else {
		for _, scope := range req.URL.Query()["scope"] {
			for s := range strings.FieldsSeq(scope) {
				parts := strings.Split(s, ":")
				if len(parts) == 3 && parts[0] == "repository" {
					grants = append(grants, access{Type: "repository", Name: parts[1], Actions: strings.Split(parts[2], ",")})
				}
			}
		}
	}
	now := time.Now()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: r.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(r.cert)}))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	claims := map[string]any{
		"iss": Issuer, "sub": user, "aud": r.service,
		"exp": now.Add(r.TokenLife).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": fmt.Sprint(now.UnixNano()), "access": grants,
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := map[string]any{"token": tok}
	if !giteaStyle {
		body["access_token"] = tok
		body["expires_in"] = int(r.TokenLife / time.Second)
		body["issued_at"] = now.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}
