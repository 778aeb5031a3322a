package gar_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/require"
)

// cloudPlatform is the scope the driver asks for.
const cloudPlatform = "https://www.googleapis.com/auth/cloud-platform"

// tokenLifetime is how long Google's access tokens live: an hour
// (developers.google.com/identity/protocols/oauth2/service-account,
// "expires_in": 3600 in the access token response).
const tokenLifetime = time.Hour

// google imitates the two places Application Default Credentials get an
// access token from, both on loopback: an OAuth2 token endpoint taking a
// service account's signed JWT (RFC 7523; Google's "Preparing to make an
// authorized API call" / "Making the access token request" in
// developers.google.com/identity/protocols/oauth2/service-account:
// POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>,
// answered {"access_token","expires_in","token_type":"Bearer"}), and the
// metadata server's token path
// (docs.cloud.google.com/compute/docs/access/authenticate-workloads:
// GET /computeMetadata/v1/instance/service-accounts/default/token with
// "Metadata-Flavor: Google", answered with the same three fields and the
// Metadata-Flavor header).
type google struct {
	t     *testing.T
	clock *registrytest.Clock
	key   *rsa.PrivateKey
	srv   *httptest.Server
	email string

	requests atomic.Int64 // token requests, either kind
	mu       sync.Mutex
	issued   map[string]time.Time // access token -> expiry, on the clock
}

func newGoogle(t *testing.T, clock *registrytest.Clock) *google {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	g := &google{t: t, clock: clock, key: key, email: "puller@project.iam.gserviceaccount.com", issued: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.serveJWTBearer)
	mux.HandleFunc("GET /computeMetadata/v1/instance/service-accounts/default/token", g.serveMetadata)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// keyFile writes a service-account key whose token_uri is the imitation's
// (the key file's fields: docs.cloud.google.com/iam/docs/keys-create-delete,
// "type", "private_key_id", "private_key", "client_email", "token_uri").
func (g *google) keyFile(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(g.key)
	require.NoError(t, err)
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "project", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": g.email, "client_id": "1", "token_uri": g.srv.URL + "/token",
	})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "key.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// serveJWTBearer checks the assertion as Google would: RS256 signed by the
// key, issued by the account, for this token URI, asking cloud-platform.
func (g *google) serveJWTBearer(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		g.refuse(w, "unsupported_grant_type")
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		g.refuse(w, "invalid_grant")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		g.refuse(w, "invalid_grant")
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Iss != g.email || claims.Scope != cloudPlatform || claims.Aud != g.srv.URL+"/token" {
		g.refuse(w, "invalid_grant")
		return
	}
	g.answer(w, g.issue(tokenLifetime))
}

func (g *google) serveMetadata(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	w.Header().Set("Metadata-Flavor", "Google")
	if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Query().Get("scopes") != cloudPlatform {
		http.Error(w, "missing Metadata-Flavor or scopes", http.StatusForbidden)
		return
	}
	g.answer(w, g.issue(tokenLifetime))
}

func (g *google) issue(life time.Duration) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "ya29." + hex.EncodeToString(b)
	g.mu.Lock()
	g.issued[tok] = g.clock.Now().Add(life)
	g.mu.Unlock()
	return tok
}

func (g *google) answer(w http.ResponseWriter, tok string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(tokenLifetime / time.Second), "token_type": "Bearer"})
}

func (g *google) refuse(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = fmt.Fprintf(w, `{"error":%q,"error_description":"refused by the imitation"}`, code)
}

// live reports whether tok is an access token issued and not yet expired.
func (g *google) live(tok string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	exp, ok := g.issued[tok]
	return ok && g.clock.Now().Before(exp)
}

// tokens returns every access token issued.
func (g *google) tokens() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.issued))
	for tok := range g.issued {
		out = append(out, tok)
	}
	return out
}

// artifactRegistry runs the test kit's registry behind Artifact Registry's
// authentication: a live access token as "Authorization: Bearer <token>"
// on any /v2/ path (docs.cloud.google.com/artifact-registry/docs/reference/docker-api,
// "Authenticating using the Docker Registry HTTP API"). Anything else is
// 401 with Bearer realm="<url>/v2/token",service="<host>": Google does not
// document the challenge; that realm and service are what public client code
// records for us-docker.pkg.dev and gcr.io. Google is also silent on the
// answer to an expired access token; this imitation answers it as any other
// refused credential (401). The token realm (Basic oauth2accesstoken:<token>
// exchanged for a registry token) is not imitated: the driver never uses
// it. refused counts the 401s, which the test kit's counters do not see.
func artifactRegistry(t *testing.T, g *google) (srv *registrytest.Server, refused *atomic.Int64) {
	t.Helper()
	refused = new(atomic.Int64)
	srv = registrytest.NewServer(registrytest.Config{Mode: registrytest.Anonymous, Now: g.clock.Now,
		Intercept: func(w http.ResponseWriter, r *http.Request) bool {
			scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			if strings.EqualFold(scheme, "Bearer") && g.live(tok) {
				return false
			}
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/v2/token",service="%s"`, r.Host, r.Host))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return true
		}})
	t.Cleanup(srv.Close)
	return srv, refused
}
