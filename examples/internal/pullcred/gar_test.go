package pullcred_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// googleKey starts a loopback OAuth2 token endpoint for the JWT-bearer
// grant (developers.google.com/identity/protocols/oauth2/service-account,
// "Making the access token request": POST
// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>,
// answered {"access_token","expires_in":3600,"token_type":"Bearer"}; the
// signature is not checked here) and writes a service-account key whose
// token_uri points at it. It returns the key's path and the request count.
func googleKey(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.test-access-token","expires_in":3600,"token_type":"Bearer"}`))
	}))
	t.Cleanup(srv.Close)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "private_key_id": "k1", "client_email": "puller@project.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": srv.URL + "/token",
	})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "key.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p, &calls
}

// Any Artifact Registry host is served with Google's credential chain, as
// any ECR host is with AWS's: user oauth2accesstoken, the access token as
// password, its expiry. Near misses are not served.
func TestGoogleArtifactRegistryHosts(t *testing.T) {
	keyFile, calls := googleKey(t)
	r := pullcred.New(registry.EnvMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": keyFile}))
	for i, server := range []string{"us-docker.pkg.dev", "https://europe-west1-docker.pkg.dev/v2/", "gcr.io", "eu.gcr.io"} {
		c, err := r.Get(context.Background(), server)
		require.NoError(t, err, server)
		assert.Equal(t, "oauth2accesstoken", c.Username, server)
		assert.Equal(t, "ya29.test-access-token", c.Password, server)
		assert.WithinDuration(t, time.Now().Add(time.Hour), c.Expires, time.Minute, server)
		assert.Equal(t, int64(i+1), calls.Load(), "one token request per lookup, none to the registry")
	}
	for _, server := range []string{"docker.pkg.dev", "us-docker.pkg.dev.evil.example", "gcr.io.evil.example", "mirror.gcr.io"} {
		_, err := r.Get(context.Background(), server)
		assert.ErrorIs(t, err, pullcred.ErrNotFound, server)
	}
	assert.Equal(t, int64(4), calls.Load())
}
