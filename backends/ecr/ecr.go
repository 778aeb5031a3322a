// Package ecr is the driver for Amazon ECR private registries
// (<account>.dkr.ecr.<region>.amazonaws.com and the FIPS, China, EU
// sovereign, dual-stack and isolated-partition forms).
//
// Credentials come from the AWS SDK's default chain (config.LoadDefaultConfig:
// environment keys, shared config and profiles, SSO, web identity / IRSA,
// ECS and EC2 roles, AWS_ENDPOINT_URL_ECR), reused rather than rewritten. The
// driver calls GetAuthorizationToken in the registry's region, keeps the
// 12-hour token, and sends it to the registry as Basic credentials: no /v2/
// probe, no token exchange. One token serves every repository, so a cold
// check costs one API call and one HEAD, and every later check, in any
// repository, one HEAD. The token is refreshed ahead of its expiry, so the
// registry's bare 403 for an expired token is never met in normal running;
// if it is (a revoked role, a skewed clock), the token is refreshed once and
// the request retried.
package ecr

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
)

// apiAction is the IAM action the driver needs (besides the pull actions on the
// repositories).
const apiAction = "ecr:GetAuthorizationToken"

// API is the part of the ECR client the driver uses.
type API interface {
	GetAuthorizationToken(ctx context.Context, in *awsecr.GetAuthorizationTokenInput, opts ...func(*awsecr.Options)) (*awsecr.GetAuthorizationTokenOutput, error)
}

// Config configures the ECR driver. The zero value, and a nil *Config, load
// the SDK's default configuration in the region the registry host names.
type Config struct {
	// AWSConfig, when set, is used instead of loading the default
	// configuration. The region still comes from the registry host when it
	// names one.
	AWSConfig *aws.Config
	// LoadOptions are added to the driver's config.LoadDefaultConfig call,
	// after its own (region, FIPS, dual-stack): a profile, an HTTP client,
	// a retryer.
	LoadOptions []func(*config.LoadOptions) error
	// Region is the region for a host that does not name one (the ecr
	// flavor forced on another host). For an ECR host it must match the
	// host's.
	Region string
	// API replaces the ECR API client.
	API API
}

// Driver returns the ECR private-registry driver configured by c (nil: the
// defaults).
func Driver(c *Config) engine.Spec {
	var cfg Config
	if c != nil {
		cfg = *c
		cfg.LoadOptions = slices.Clone(c.LoadOptions)
	}
	return engine.Spec{
		Flavor:     registry.FlavorECR,
		ClaimsHost: func(host string) bool { return registry.DetectFlavor(host) == registry.FlavorECR },
		Configure:  func(t engine.Target) (engine.Config, error) { return configure(t, cfg) },
	}
}

// configure does no I/O: the AWS configuration is loaded, and the ECR client
// built, on the first token request, and again on a later one if loading
// failed.
func configure(t engine.Target, c Config) (engine.Config, error) {
	o := t.Options
	regHost := t.Prefix.Host()
	region, err := resolveRegion(t.Prefix, o, c.Region)
	if err != nil {
		return engine.Config{}, err
	}
	ecrHost, _ := host.ParseECR(regHost)
	var client *ecrauth.Lazy[API]
	if c.API != nil {
		client = ecrauth.Ready(c.API)
	} else {
		client = ecrauth.NewClient(o, "ECR", func(ctx context.Context) (aws.Config, error) {
			return loadConfig(ctx, o, c, region, ecrHost)
		}, newAPI)
	}
	t2 := &tokens{api: client, host: regHost, region: region, now: o.Now().Now, log: o.Log()}
	return engine.Config{
		Auth: engine.FetchedToken{
			Fetch:            t2.fetch,
			DockerCredential: func(tok *oauth2.Token) (authn.Credential, error) { return ecrauth.DecodeToken(tok.AccessToken) },
		},
		Hint: "the ECR password was refused; check that the AWS identity may pull from this repository (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer)",
		// ECR answers an expired token with a bare 403, as it answers a
		// denial; the engine refreshes at most once per token and repository.
		Rejected: func(r *http.Response) bool { return r.StatusCode == http.StatusForbidden },
	}, nil
}

// newAPI builds the ECR client, at endpoint when one is set.
func newAPI(cfg aws.Config, endpoint string) API {
	return awsecr.NewFromConfig(cfg, func(eo *awsecr.Options) {
		if endpoint != "" {
			eo.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// resolveRegion takes the region from the host, checking any explicit one.
func resolveRegion(p registry.Prefix, o *registry.Options, explicit string) (string, error) {
	if h, ok := host.ParseECR(p.Host()); ok {
		if explicit != "" && explicit != h.Region {
			return "", &registry.ConfigError{Var: "ECR region", Value: explicit,
				Reason: fmt.Sprintf("does not match the region %s of the registry host %s", h.Region, p.Host()),
				Fix:    "drop ecr.Config.Region: the host names the region"}
		}
		return h.Region, nil
	}
	if explicit != "" {
		return explicit, nil
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v, ok := o.LookupEnv(k); ok {
			return v, nil
		}
	}
	return "", &registry.ConfigError{Var: "MOLECULE_IMAGE_REGISTRY", Value: p.String(),
		Reason: "is not an ECR host, so it names no AWS region",
		Fix:    "set AWS_REGION, or use the registry's <account>.dkr.ecr.<region>.amazonaws.com host"}
}

// loadConfig returns the AWS configuration: the caller's, or the SDK's
// default chain, in region, with FIPS and dual-stack endpoints when the
// registry host uses them.
func loadConfig(ctx context.Context, o *registry.Options, c Config, region string, h host.ECR) (aws.Config, error) {
	if c.AWSConfig != nil {
		cfg := c.AWSConfig.Copy()
		cfg.Region = region
		return cfg, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if h.FIPS {
		opts = append(opts, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
	}
	if h.DualStack {
		opts = append(opts, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
	}
	return ecrauth.LoadConfig(ctx, o, append(opts, c.LoadOptions...)...)
}

// tokens fetches ECR's authorization token: one Basic token per registry
// from GetAuthorizationToken, which the engine caches until ahead of its
// expiry.
type tokens struct {
	api    *ecrauth.Lazy[API]
	host   string
	region string
	now    func() time.Time
	log    *slog.Logger
}

func (t *tokens) fetch(ctx context.Context) (*oauth2.Token, error) {
	api, err := t.api.Get(ctx)
	if err != nil {
		return nil, err
	}
	out, err := api.GetAuthorizationToken(ctx, &awsecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, ecrauth.APIError(err, t.host, t.region, apiAction)
	}
	var data types.AuthorizationData
	if len(out.AuthorizationData) > 0 {
		data = out.AuthorizationData[0]
	}
	tok, err := ecrauth.Token(data.AuthorizationToken, data.ExpiresAt, t.now(), t.host)
	if err != nil {
		return nil, err
	}
	// The token serves every registry the principal may read, whatever
	// proxyEndpoint (the caller's own registry) says; it is logged only.
	t.log.DebugContext(ctx, "ECR authorization token", "registry", t.host, "expires", tok.Expiry,
		"proxy_endpoint", aws.ToString(data.ProxyEndpoint))
	return tok, nil
}
