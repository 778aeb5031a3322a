package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// Static is a registry that answers from memory at almost no cost: a token
// service that hands out one token, and manifests of a fixed digest. Timing
// the approaches against it measures the clients themselves, where the CNCF
// registry's own work (JWT verification, storage) would otherwise dominate.
type Static struct {
	Target   Target
	Digest   string
	srv      *httptest.Server
	requests atomic.Int64
}

const staticToken = "static-token-0123456789"

// NewStatic starts the static registry on loopback.
func NewStatic() *Static {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	sum := sha256.Sum256(manifest)
	s := &Static{Digest: "sha256:" + hex.EncodeToString(sum[:])}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		host := r.Host
		switch {
		case r.URL.Path == "/token" || r.URL.Path == "/v2/token":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"token":"` + staticToken + `","expires_in":3600}`))
		case strings.HasPrefix(r.URL.Path, "/v2/") && strings.Contains(r.URL.Path, "/manifests/"):
			if r.Header.Get("Authorization") != "Bearer "+staticToken {
				repo := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/latest")
				w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+host+`/token",service="`+host+`",scope="repository:`+repo+`:pull"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", s.Digest)
			w.Header().Set("Content-Length", "80")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write(manifest)
			}
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+host+`/token",service="`+host+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	host := strings.TrimPrefix(s.srv.URL, "http://")
	s.Target = Target{Host: host, Org: "org", User: User, Password: Password, Realm: s.srv.URL + "/token", Service: host}
	return s
}

// Close stops the server.
func (s *Static) Close() { s.srv.Close() }

// Requests returns the requests served.
func (s *Static) Requests() int64 { return s.requests.Load() }

// ResetRequests zeroes the counter.
func (s *Static) ResetRequests() { s.requests.Store(0) }
