package faults

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/internal/faultinject"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Secrets of the suite; none may appear in a log line or an error.
const (
	user      = "suite-user"
	password  = "suite-password-7f3e9a"
	awsSecret = "suite/aws/secret/key/EXAMPLE"
	awsKeyID  = "AKIDSUITE01234567890"
)

// driver is one flavor under test.
type driver struct {
	name   string
	mode   registrytest.Mode
	flavor registry.Flavor
	bearer bool // uses a token endpoint
}

var drivers = []driver{
	{"ghcr", registrytest.GHCR, registry.FlavorGHCR, true},
	{"gitea", registrytest.Gitea, registry.FlavorGitea, true},
	{"distribution", registrytest.Distribution, registry.FlavorUnknown, true},
	{"basic", registrytest.Basic, registry.FlavorUnknown, false},
	{"ecr", registrytest.ECR, registry.FlavorECR, false},
}

func bearerDrivers() []driver {
	var out []driver
	for _, d := range drivers {
		if d.bearer {
			out = append(out, d)
		}
	}
	return out
}

// harness is one registry with faults, a backend on it, and leak checks.
type harness struct {
	srv     *registrytest.Server
	faults  *faultinject.Injector
	clock   *registrytest.Clock
	backend registry.Backend
	digest  string
	logs    *syncBuffer
	errs    []error
	secrets []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setup starts a registry of d's mode with an image org/app:latest and opens
// d's backend on it with a fake clock, a debug logger and its own transport;
// tweak, if any, changes the options last.
func setup(t *testing.T, d driver, tweak ...func(*registry.Options)) *harness {
	t.Helper()
	h := &harness{faults: &faultinject.Injector{}, clock: registrytest.NewClock(time.Now()), logs: &syncBuffer{},
		secrets: []string{password, awsSecret}}
	h.srv = registrytest.NewServer(registrytest.Config{Mode: d.mode, Users: map[string]string{user: password}, Now: h.clock.Now, Intercept: h.faults.Intercept})
	t.Cleanup(h.srv.Close)
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	dg, err := h.srv.Push("org/app", "latest", img)
	require.NoError(t, err)
	h.digest = dg.String()

	transport := engine.NewTransport()
	t.Cleanup(transport.CloseIdleConnections)
	o := registry.Options{
		Clock:       h.clock,
		Logger:      slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient:  &http.Client{Transport: transport},
		Credentials: authn.Static(authn.Credential{Username: user, Password: password}),
		Env:         registry.EnvMap(nil),
		Flavor:      d.flavor,
	}
	for _, f := range tweak {
		f(&o)
	}
	// The token service is what this suite exercises; the direct credential
	// has tests of its own in backends/ghcr and backends/gitea.
	drivers := []engine.Spec{ghcr.Driver(&ghcr.Config{TokenService: true}), gitea.Driver(&gitea.Config{TokenService: true})}
	if d.mode == registrytest.ECR {
		drivers = append(drivers, ecrDriver(t, h))
	}
	h.backend, err = backends.Open(h.srv.Host()+"/org", &o, drivers...)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, leak := range h.leaks() {
			t.Error(leak)
		}
	})
	return h
}

// ecrDriver points the ECR driver at an imitation API issuing passwords the
// registry accepts for 12 h.
func ecrDriver(t *testing.T, h *harness) engine.Spec {
	creds := aws.Credentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret}
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "us-east-2", Credentials: creds,
		Issue: func() (string, time.Time) {
			exp := h.clock.Now().Add(12 * time.Hour)
			return h.srv.IssueECRPassword(exp), exp
		}})
	t.Cleanup(api.Close)
	registrytest.SetAWSEnv(t, aws.Credentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret}, "AWS_ENDPOINT_URL_ECR", api.URL())
	return ecr.Driver(&ecr.Config{Region: "us-east-2"})
}

// check resolves org/app:latest and records the error for the leak check.
func (h *harness) check(ctx context.Context) (string, error) {
	d, err := h.backend.ManifestDigest(ctx, "app", "latest")
	if err != nil {
		h.errs = append(h.errs, err)
	}
	return d, err
}

// leaks lists every appearance of a secret (the suite's passwords and keys,
// and every token or ECR password the registry issued) in the logs or in an
// error returned to the test.
func (h *harness) leaks() []string {
	secrets := append(append([]string{}, h.secrets...), h.srv.IssuedTokens()...)
	logs := h.logs.String()
	var out []string
	for _, s := range secrets {
		if len(s) < 6 {
			continue
		}
		if strings.Contains(logs, s) {
			out = append(out, "a secret appears in the logs: "+s[:3]+"…")
		}
		for _, err := range h.errs {
			if strings.Contains(err.Error(), s) {
				out = append(out, "a secret appears in an error: "+strings.ReplaceAll(err.Error(), s, "<SECRET>"))
			}
		}
	}
	return out
}
