// Package customdriver is a third-party registrykit driver written against
// the public API alone: Google Artifact Registry (<region>-docker.pkg.dev),
// which takes the user "oauth2accesstoken" with an OAuth2 access token as
// the password (docs.cloud.google.com/artifact-registry/docs/docker/authentication,
// "Access token"). The engine does everything else: the /v2/ challenge, the
// token exchange, caching, retries and errors.
package customdriver

import (
	"context"
	"strings"
	"sync"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Flavor names the Artifact Registry flavor.
const Flavor registry.Flavor = "gar"

// scope is the OAuth2 scope Artifact Registry pulls need.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// Driver returns the Artifact Registry driver, authenticating with the
// access tokens of ts, or of Google's application default credentials when
// ts is nil. Pass it to backends.Open or backends.FromEnv, or to
// engine.Open with backends.Drivers().
func Driver(ts oauth2.TokenSource) engine.Spec {
	return engine.Spec{
		Flavor:     Flavor,
		ClaimsHost: func(host string) bool { return strings.HasSuffix(host, "-docker.pkg.dev") },
		Configure: func(engine.Target) (engine.Config, error) {
			ts := ts // each backend finds its own default
			var mu sync.Mutex
			return engine.Config{
				Credentials: authn.SourceFunc(func(ctx context.Context, _ string) (authn.Credential, error) {
					mu.Lock()
					defer mu.Unlock()
					if ts == nil {
						def, err := google.DefaultTokenSource(ctx, scope)
						if err != nil {
							return authn.Credential{}, err
						}
						ts = def // first use only; ReuseTokenSource refreshes
					}
					tok, err := ts.Token()
					if err != nil {
						return authn.Credential{}, err
					}
					return authn.Credential{Username: "oauth2accesstoken", Password: tok.AccessToken}, nil
				}),
				Hint: "run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS",
			}, nil
		},
	}
}
