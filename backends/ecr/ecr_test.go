package ecr_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	region    = "us-east-2"
	accessKey = "AKIDEXAMPLE0123456789"
	secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var creds = aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}

// awsEnv points the SDK's default chain at the fake API with static keys
// (or none) and nothing else.
func awsEnv(t *testing.T, endpoint string, withKeys bool) {
	t.Helper()
	var c aws.Credentials
	if withKeys {
		c = creds
	}
	registrytest.SetAWSEnv(t, c, "AWS_ENDPOINT_URL_ECR", endpoint)
}

type fixture struct {
	clock   *registrytest.Clock
	reg     *registrytest.Server
	api     *registrytest.ECRAPI
	backend registry.Backend
	digests map[string]string
}

// setup runs an ECR-style registry and API, and opens the ecr flavor (forced:
// the registry is on loopback) with the SDK's default configuration chain.
func setup(t *testing.T, repos int, lifetime time.Duration) *fixture {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.ECR, Now: clock.Now})
	t.Cleanup(reg.Close)
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{
		Service: "ecr", Region: region, Credentials: creds,
		Issue: func() (string, time.Time) {
			exp := clock.Now().Add(lifetime)
			return reg.IssueECRPassword(exp), exp
		},
	})
	t.Cleanup(api.Close)
	awsEnv(t, api.URL(), true)
	f := &fixture{clock: clock, reg: reg, api: api, digests: map[string]string{}}
	for i := range repos {
		img, err := random.Image(32, 1)
		require.NoError(t, err)
		repo := fmt.Sprintf("repo-%02d", i)
		h, err := reg.Push("molecule-ai/"+repo, "latest", img)
		require.NoError(t, err)
		f.digests[repo] = h.String()
	}
	b, err := backends.Open(reg.Host()+"/molecule-ai",
		&registry.Options{Flavor: registry.FlavorECR, Clock: clock}, ecr.Driver(&ecr.Config{Region: region}))
	require.NoError(t, err)
	f.backend = b
	return f
}

func TestColdAndSteadyCounts(t *testing.T) {
	f := setup(t, 2, 12*time.Hour)
	ctx := context.Background()
	d, err := f.backend.ManifestDigest(ctx, "repo-00", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["repo-00"], d)
	assert.Equal(t, int64(1), f.api.Calls(), "cold: one API call")
	assert.Equal(t, registrytest.Counts{Head: 1}, f.reg.Counts(), "cold: one HEAD, no probe")
	assert.Empty(t, f.api.Errors(), "every API request was correctly signed")

	d, err = f.backend.ManifestDigest(ctx, "repo-01", "latest")
	require.NoError(t, err)
	assert.Equal(t, f.digests["repo-01"], d)
	assert.Equal(t, int64(1), f.api.Calls(), "a new repository needs no new token")
	assert.Equal(t, registrytest.Counts{Head: 2}, f.reg.Counts())

	tok, err := f.backend.Token(ctx, "repo-00")
	require.NoError(t, err)
	assert.Equal(t, "Basic", tok.Type())
	cred, err := f.backend.Credential(ctx)
	require.NoError(t, err)
	assert.Equal(t, "AWS", cred.Username)
	assert.NotEmpty(t, cred.Password)
}

func TestConcurrentChecksOneAPICall(t *testing.T) {
	f := setup(t, 20, 12*time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := fmt.Sprintf("repo-%02d", i%20)
			d, err := f.backend.ManifestDigest(context.Background(), repo, "latest")
			if err == nil && d != f.digests[repo] {
				err = fmt.Errorf("%s: got %s, want %s", repo, d, f.digests[repo])
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), f.api.Calls(), "200 checks over 20 repositories: one API call")
	assert.Equal(t, int64(200), f.reg.Counts().Head)
	assert.Zero(t, f.reg.Counts().Rejected)
}

func TestRefreshPointCrossedWithoutFailure(t *testing.T) {
	f := setup(t, 3, 12*time.Hour)
	ctx := context.Background()
	// Every 5 minutes for 12 hours: the token is refreshed once, at 9.6 h,
	// before the registry would refuse it.
	for i := range 12 * 12 {
		_, err := f.backend.ManifestDigest(ctx, fmt.Sprintf("repo-%02d", i%3), "latest")
		require.NoError(t, err)
		f.clock.Advance(5 * time.Minute)
	}
	assert.Equal(t, int64(2), f.api.Calls(), "exactly one refresh")
	assert.Zero(t, f.reg.Counts().Rejected, "no registry request failed")
}

func TestRevokedPasswordRefreshedOnce(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.ECR, Now: clock.Now})
	defer reg.Close()
	calls := 0
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: region, Credentials: creds,
		Issue: func() (string, time.Time) {
			calls++
			// The API promises 12 h, but the first password dies after 1 h.
			pwExp := clock.Now().Add(12 * time.Hour)
			if calls == 1 {
				pwExp = clock.Now().Add(time.Hour)
			}
			return reg.IssueECRPassword(pwExp), clock.Now().Add(12 * time.Hour)
		}})
	defer api.Close()
	awsEnv(t, api.URL(), true)
	img, _ := random.Image(32, 1)
	h, err := reg.Push("molecule-ai/x", "latest", img)
	require.NoError(t, err)
	b, err := backends.Open(reg.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorECR, Clock: clock}, ecr.Driver(&ecr.Config{Region: region}))
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.NoError(t, err)
	clock.Advance(2 * time.Hour)
	reg.ResetCounts()
	d, err := b.ManifestDigest(context.Background(), "x", "latest")
	require.NoError(t, err)
	assert.Equal(t, h.String(), d)
	assert.Equal(t, int64(2), api.Calls(), "the 403 refreshed the token once")
	assert.Equal(t, registrytest.Counts{Head: 2, Rejected: 1}, reg.Counts())
}

func TestNoCredentialsNamesTheChain(t *testing.T) {
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: region, Credentials: creds})
	defer api.Close()
	awsEnv(t, api.URL(), false)
	b, err := backends.Open("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", nil)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "EC2 instance role"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Zero(t, api.Calls())
}

func TestAccessDenied(t *testing.T) {
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: region, Credentials: creds, Deny: true})
	defer api.Close()
	awsEnv(t, api.URL(), true)
	b, err := backends.Open("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", nil)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.ErrorIs(t, err, registry.ErrDenied)
	assert.Contains(t, err.Error(), "ecr:GetAuthorizationToken")
	assert.NotContains(t, err.Error(), secretKey)
}

func TestWrongRegionSignatureIsRefused(t *testing.T) {
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "eu-west-1", Credentials: creds})
	defer api.Close()
	awsEnv(t, api.URL(), true)
	b, err := backends.Open("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", nil)
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "x", "latest")
	require.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "us-east-2")
	require.Len(t, api.Errors(), 1)
	assert.Contains(t, api.Errors()[0], "credential scope")
}

func TestRegionResolution(t *testing.T) {
	_, err := backends.Open("123456789012.dkr.ecr.us-east-2.amazonaws.com/x", nil, ecr.Driver(&ecr.Config{Region: "us-west-2"}))
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "does not match")

	_, err = backends.Open("127.0.0.1:5000/x", &registry.Options{Flavor: registry.FlavorECR, Env: registry.EnvMap(nil)})
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "AWS_REGION")
}

// recorder answers every API call with AccessDenied and records the host
// the SDK resolved, without any network I/O.
type recorder struct {
	mu    sync.Mutex
	hosts []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.URL.Host)
	r.mu.Unlock()
	return &http.Response{StatusCode: 400, Header: http.Header{"X-Amzn-Errortype": {"AccessDeniedException"}, "Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(strings.NewReader(`{"__type":"AccessDeniedException","message":"no"}`)), Request: req}, nil
}

func TestEndpointFromHost(t *testing.T) {
	cases := map[string]string{
		"123456789012.dkr.ecr.us-east-2.amazonaws.com":      "api.ecr.us-east-2.amazonaws.com",
		"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com": "api.ecr-fips.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":  "api.ecr.cn-north-1.amazonaws.com.cn",
		"123456789012.dkr.ecr.eu-central-1.amazonaws.com":   "api.ecr.eu-central-1.amazonaws.com",
		"123456789012.dkr-ecr.us-west-2.on.aws":             "ecr.us-west-2.api.aws",
		"123456789012.dkr.ecr.us-gov-west-1.amazonaws.com":  "api.ecr.us-gov-west-1.amazonaws.com",
	}
	for host, want := range cases {
		t.Run(host, func(t *testing.T) {
			awsEnv(t, "", true)
			rec := &recorder{}
			b, err := backends.Open(host+"/x", nil, ecr.Driver(&ecr.Config{LoadOptions: []func(*config.LoadOptions) error{config.WithHTTPClient(&http.Client{Transport: rec})}}))
			require.NoError(t, err)
			_, err = b.Token(context.Background(), "x")
			require.ErrorIs(t, err, registry.ErrDenied)
			require.NotEmpty(t, rec.hosts)
			assert.Equal(t, want, rec.hosts[0])
		})
	}
}

// deniedRig is an ECR registry whose molecule-ai/secret is denied and
// molecule-ai/open readable (both pushed), its API, and a backend of it.
func deniedRig(t *testing.T) (*registrytest.Clock, *registrytest.Server, *registrytest.ECRAPI, registry.Backend) {
	t.Helper()
	clock := registrytest.NewClock(time.Now())
	reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.ECR, Now: clock.Now,
		Denied: func(repo string) bool { return repo == "molecule-ai/secret" }})
	t.Cleanup(reg.Close)
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: region, Credentials: creds,
		Issue: func() (string, time.Time) {
			exp := clock.Now().Add(12 * time.Hour)
			return reg.IssueECRPassword(exp), exp
		}})
	t.Cleanup(api.Close)
	awsEnv(t, api.URL(), true)
	for _, repo := range []string{"secret", "open"} {
		img, _ := random.Image(32, 1)
		_, err := reg.Push("molecule-ai/"+repo, "latest", img)
		require.NoError(t, err)
	}
	b, err := backends.Open(reg.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorECR, Clock: clock}, ecr.Driver(&ecr.Config{Region: region}))
	require.NoError(t, err)
	return clock, reg, api, b
}

// ECR answers 403 both for an expired token and for a denial. A token
// refused as soon as it was fetched means denied: five checks of a denied
// repository cost the one cold API call and one HEAD each, and a readable
// repository keeps working with the same token.
func TestDeniedRepositoryCostsNoTokenRefresh(t *testing.T) {
	clock, reg, api, b := deniedRig(t)
	reg.ResetCounts()
	for range 5 {
		clock.Advance(5 * time.Minute)
		_, err := b.ManifestDigest(context.Background(), "secret", "latest")
		require.ErrorIs(t, err, registry.ErrDenied)
		assert.Contains(t, err.Error(), "ecr:BatchGetImage")
	}
	assert.Equal(t, int64(1), api.Calls(), "the cold call only: denied is not expired")
	assert.Equal(t, int64(5), reg.Counts().Head, "one HEAD per check")
	_, err := b.ManifestDigest(context.Background(), "open", "latest")
	require.NoError(t, err)
	assert.Equal(t, int64(1), api.Calls())
}

// Token with no repository is the registry's one token, for tools that
// need its expiry (credential helpers).
func TestTokenWithoutRepository(t *testing.T) {
	f := setup(t, 1, 12*time.Hour)
	tok, err := f.backend.Token(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, "Basic", tok.Type())
	assert.Equal(t, f.clock.Now().Add(12*time.Hour).Unix(), tok.Expiry.Unix())
	assert.Equal(t, int64(1), f.api.Calls())
}

// A readable repository checked first, then a denied one, five times: the
// denial is remembered against the token that was refused, so no check
// fetches a token again.
func TestDeniedAfterAnotherRepositoryCostsNoRefetch(t *testing.T) {
	clock, _, api, b := deniedRig(t)
	_, err := b.ManifestDigest(context.Background(), "open", "latest")
	require.NoError(t, err)
	for range 5 {
		clock.Advance(5 * time.Minute)
		_, err := b.ManifestDigest(context.Background(), "secret", "latest")
		require.ErrorIs(t, err, registry.ErrDenied)
	}
	assert.LessOrEqual(t, api.Calls(), int64(2), "one refresh at most, then the denial is remembered")
	_, err = b.ManifestDigest(context.Background(), "open", "latest")
	require.NoError(t, err)
}
