package gar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"cloud.google.com/go/compute/metadata"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// scope is the OAuth2 scope of the access token: cloud-platform covers
// Artifact Registry's pulls, as gcloud's and go-containerregistry's Google
// keychain (pkg/v1/google/auth.go, cloudPlatformScope) ask for it.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// envCredentials names the Application Default Credentials file.
const envCredentials = "GOOGLE_APPLICATION_CREDENTIALS"

// defaultSource resolves Application Default Credentials in env, in the
// order google.FindDefaultCredentials documents: the file
// GOOGLE_APPLICATION_CREDENTIALS names, gcloud's
// application_default_credentials.json under HOME (APPDATA on Windows), then
// the metadata server. The variables are read from env, not the process;
// what still reads the process environment is the metadata package
// (GCE_METADATA_HOST, which also redirects it) and, inside a workload
// identity federation file, the credential sources that consult the
// process themselves (an AWS source's AWS_* variables, an executable
// source's GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES).
func defaultSource(ctx context.Context, env registry.Env, mc *metadata.Client) (oauth2.TokenSource, error) {
	params := google.CredentialsParams{Scopes: []string{scope}}
	if path, ok := env.Lookup(envCredentials); ok && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &registry.ConfigError{Var: envCredentials, Value: path, Reason: "cannot be read: " + pathErr(err),
				Fix: "point " + envCredentials + " at a readable service-account key or workload identity federation file"}
		}
		return fromJSON(ctx, b, params, envCredentials, path)
	}
	if path := wellKnownFile(env); path != "" {
		if b, err := os.ReadFile(path); err == nil {
			return fromJSON(ctx, b, params, "gcloud application default credentials", path)
		}
	}
	if mc.OnGCEWithContext(ctx) {
		return metadataSource{ctx: ctx, c: mc}, nil
	}
	return nil, errors.New("no Google credentials: " + envCredentials + " is unset, there is no gcloud application default credentials file, and no metadata server answered")
}

// fromJSON reads a credentials file's contents; a file it cannot read is a
// configuration error naming the file, never quoting it.
func fromJSON(ctx context.Context, b []byte, params google.CredentialsParams, what, path string) (oauth2.TokenSource, error) {
	creds, err := google.CredentialsFromJSONWithParams(ctx, b, params)
	if err != nil {
		return nil, &registry.ConfigError{Var: what, Value: path, Reason: "is not a Google credentials file the library reads",
			Fix: "use a service-account key, an authorized-user file from gcloud auth application-default login, or a workload identity federation configuration"}
	}
	return creds.TokenSource, nil
}

// pathErr is the reason a file could not be read, without the path twice.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// wellKnownFile is gcloud's application default credentials file under
// env's home, "" when env names no home.
func wellKnownFile(env registry.Env) string {
	const f = "application_default_credentials.json"
	if runtime.GOOS == "windows" {
		if d := env.Get("APPDATA"); d != "" {
			return filepath.Join(d, "gcloud", f)
		}
		return ""
	}
	if d := env.Get("HOME"); d != "" {
		return filepath.Join(d, ".config", "gcloud", f)
	}
	return ""
}

// metadataSource asks the metadata server for the default service
// account's token, each call a request
// (docs.cloud.google.com/compute/docs/access/authenticate-workloads,
// "instance/service-accounts/default/token"; the answer is
// {"access_token","expires_in","token_type"}).
type metadataSource struct {
	ctx context.Context
	c   *metadata.Client
}

func (m metadataSource) Token() (*oauth2.Token, error) {
	body, err := m.c.GetWithContext(m.ctx, "instance/service-accounts/default/token?"+url.Values{"scopes": {scope}}.Encode())
	if err != nil {
		return nil, fmt.Errorf("metadata server: %w", err)
	}
	var res struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.AccessToken == "" || res.ExpiresIn <= 0 {
		return nil, errors.New("metadata server: the token answer has no access_token and expires_in")
	}
	return &oauth2.Token{AccessToken: res.AccessToken, TokenType: res.TokenType,
		Expiry: time.Now().Add(time.Duration(res.ExpiresIn) * time.Second)}, nil
}
