// Package ecrpublic is the driver for Amazon ECR Public (public.ecr.aws).
//
// Pulls are anonymous by default, through the registry's bearer flow with
// its known realm (https://public.ecr.aws/token), so no /v2/ probe is sent.
// When AWS credentials are configured (AWS_ACCESS_KEY_ID, AWS_PROFILE, web
// identity, a container role) or [Config].AWSAuth says so, the driver calls
// ecrpublic.GetAuthorizationToken in us-east-1 and presents the password it
// returns to the token service, which raises the anonymous pull limits. An
// expired bearer token, which ECR Public answers with 400 DENIED, is
// refreshed once.
package ecrpublic

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsecrpublic "github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
)

// apiRegion is the only region the ECR Public API lives in.
const apiRegion = "us-east-1"

// apiAction is the IAM action authenticated pulls need.
const apiAction = "ecr-public:GetAuthorizationToken"

// Hint is the fix named in authentication errors.
const hint = "public images need no credentials; for authenticated pulls configure AWS credentials allowed " + apiAction + " and sts:GetServiceBearerToken"

// API is the part of the ECR Public client the driver uses.
type API interface {
	GetAuthorizationToken(ctx context.Context, in *awsecrpublic.GetAuthorizationTokenInput, opts ...func(*awsecrpublic.Options)) (*awsecrpublic.GetAuthorizationTokenOutput, error)
}

// Config configures the ECR Public driver. The zero value, and a nil
// *Config, pull anonymously unless the environment names AWS credentials.
type Config struct {
	// AWSAuth forces authenticated (true) or anonymous (false) pulls; nil
	// decides from the presence of AWS credentials in the environment
	// (AWS_ACCESS_KEY_ID, AWS_PROFILE, web identity, a container role),
	// which it does not resolve, so deciding does no I/O.
	AWSAuth *bool
	// LoadOptions are added to the driver's config.LoadDefaultConfig call.
	LoadOptions []func(*config.LoadOptions) error
	// API replaces the ECR Public API client (and enables AWS auth).
	API API
}

// Driver returns the ECR Public driver, for public.ecr.aws and
// ecr-public.aws.com, configured by c (nil: the defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = *c
		cfg.LoadOptions = slices.Clone(c.LoadOptions)
	}
	return engine.Spec{
		Flavor:     registry.FlavorECRPublic,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorECRPublic },
		Configure:  func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

// configure does no I/O: when authenticated pulls are wanted, the AWS
// configuration is loaded on the first token request.
func configure(t engine.Target, c Config) (engine.Config, error) {
	o := t.Options
	host := t.Prefix.Host()
	cred := authn.Anonymous
	if c.authenticated(o) {
		var client *ecrauth.Lazy[API]
		if c.API != nil {
			client = ecrauth.Ready(c.API)
		} else {
			client = ecrauth.NewClient(o, "ECR_PUBLIC", func(ctx context.Context) (aws.Config, error) {
				return ecrauth.LoadConfig(ctx, o, append([]func(*config.LoadOptions) error{config.WithRegion(apiRegion)}, c.LoadOptions...)...)
			}, newAPI)
		}
		pw := &passwords{api: client, now: o.Now().Now}
		password := engine.Cached(o.Now().Now, pw.fetch)
		cred = authn.SourceFunc(func(ctx context.Context, _ string) (authn.Credential, error) {
			tok, err := password(ctx)
			if err != nil {
				return authn.Credential{}, err
			}
			return ecrauth.DecodeToken(tok.AccessToken)
		})
	}
	return engine.Config{
		// ECR Public answers GET /v2/ with
		// Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"
		// (the trailing slash is the registry's own; oras-project/oras-go #1227).
		Auth:        engine.TokenService{Realm: engine.Scheme(host, o) + "://" + host + "/token/", Service: host},
		Credentials: cred,
		Hint:        hint,
		// An invalid or expired token answers
		// 400 {"errors":[{"code":"DENIED","message":"Your Authorization Token is invalid."}]}
		// (oras-project/oras-go #1227); a HEAD carries no body, so any 400.
		Rejected: func(r *http.Response) bool { return r.StatusCode == http.StatusBadRequest },
	}, nil
}

// newAPI builds the ECR Public client, at endpoint when one is set.
func newAPI(cfg aws.Config, endpoint string) API {
	return awsecrpublic.NewFromConfig(cfg, func(eo *awsecrpublic.Options) {
		if endpoint != "" {
			eo.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// authenticated reports whether a backend opened with o authenticates pulls
// with AWS credentials: c names an API or sets AWSAuth, or else the
// environment names AWS credentials.
func (c Config) authenticated(o *registry.Options) bool {
	switch {
	case c.API != nil:
		return true
	case c.AWSAuth != nil:
		return *c.AWSAuth
	}
	return ecrauth.CredentialsConfigured(o)
}

// passwords fetches the password GetAuthorizationToken returns; the driver
// caches it with engine.Cached.
type passwords struct {
	api *ecrauth.Lazy[API]
	now func() time.Time
}

func (p *passwords) fetch(ctx context.Context) (*oauth2.Token, error) {
	api, err := p.api.Get(ctx)
	if err != nil {
		return nil, err
	}
	out, err := api.GetAuthorizationToken(ctx, &awsecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, ecrauth.APIError(err, "public.ecr.aws", apiRegion, apiAction)
	}
	var data types.AuthorizationData
	if out.AuthorizationData != nil {
		data = *out.AuthorizationData
	}
	return ecrauth.Token(data.AuthorizationToken, data.ExpiresAt, p.now(), "public.ecr.aws")
}
