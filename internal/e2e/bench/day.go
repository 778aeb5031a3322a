package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// DayResult is what a watcher of every runtime image cost over a simulated
// day of five-minute intervals.
type DayResult struct {
	Flavor registry.Flavor
	// Credentials says what the flavor's default sends: a token's life,
	// or that no token service is involved.
	Credentials string
	Intervals   int
	// Heads and Tokens are the registry's HEAD requests and token requests
	// (ECR: GetAuthorizationToken calls); MaxHeads is the most HEADs in one
	// interval; Rejected counts requests the registry refused.
	Heads, Tokens, MaxHeads, Rejected int64
	// Images is the number of images watched.
	Images int
}

// SimulateDay runs a watcher of the nine runtime images for 24 hours of
// fake time against an imitation of flavor, each with its default
// credentials (ghcr: the PAT as the bearer token, gitea: Basic, ecr: 12 h
// tokens from GetAuthorizationToken), and counts the requests.
func SimulateDay(ctx context.Context, flavor registry.Flavor) (DayResult, error) {
	res := DayResult{Flavor: flavor, Intervals: 24 * 12}
	clock := registrytest.NewClock(time.Now())
	mode := map[registry.Flavor]registrytest.Mode{registry.FlavorGHCR: registrytest.GHCR, registry.FlavorGitea: registrytest.Gitea, registry.FlavorECR: registrytest.ECR}[flavor]
	srv := registrytest.NewServer(registrytest.Config{Mode: mode, Users: map[string]string{User: Password}, Now: clock.Now})
	defer srv.Close()
	for _, rt := range registry.DefaultRuntimes() {
		img, err := random.Image(256, 1)
		if err != nil {
			return res, err
		}
		if _, err := srv.Push("molecule-ai/workspace-template-"+rt, registry.RuntimeTag, img); err != nil {
			return res, err
		}
	}
	o := &registry.Options{
		Flavor: flavor, Clock: clock, Env: registry.EnvMap(nil),
		Credentials: authn.Static(authn.Credential{Username: User, Password: Password}),
	}
	var drivers []engine.Spec
	var api *registrytest.ECRAPI
	switch flavor {
	case registry.FlavorGHCR:
		res.Credentials = "PAT as the bearer token"
	case registry.FlavorGitea:
		res.Credentials = "Basic on every request"
	case registry.FlavorECR:
		res.Credentials = "12 h token"
		creds := aws.Credentials{AccessKeyID: "AKIDDAY0123456789012", SecretAccessKey: "day/secret"}
		api = registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "us-east-2", Credentials: creds,
			Issue: func() (string, time.Time) {
				exp := clock.Now().Add(12 * time.Hour)
				return srv.IssueECRPassword(exp), exp
			}})
		defer api.Close()
		drivers = append(drivers, ecr.Driver(&ecr.Config{Region: "us-east-2", LoadOptions: []func(*config.LoadOptions) error{
			config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}),
			config.WithBaseEndpoint(api.URL()),
		}}))
	default:
		return res, fmt.Errorf("no day simulation for flavor %s", flavor)
	}
	b, err := backends.Open(srv.Host()+"/molecule-ai", o, drivers...)
	if err != nil {
		return res, err
	}
	w, err := watch.New(b, &watch.Options{Clock: clock})
	if err != nil {
		return res, err
	}
	res.Images = len(registry.DefaultRuntimes())
	for range res.Intervals {
		before := srv.Counts().Head
		for _, ev := range w.Check(ctx) {
			if ev.Kind == watch.Failed {
				return res, ev.Err
			}
		}
		res.MaxHeads = max(res.MaxHeads, srv.Counts().Head-before)
		clock.Advance(watch.DefaultInterval)
	}
	c := srv.Counts()
	res.Heads, res.Rejected, res.Tokens = c.Head, c.Rejected, c.Token
	if api != nil {
		res.Tokens = api.Calls()
	}
	return res, nil
}
