// Package helpertest is what the credential helpers' tests share: building
// the helper binary, an imitation ECR (registry and API) that the real AWS
// SDK in the helper process talks to, and a clean environment for the
// helper. Everything listens on loopback.
package helpertest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/require"
)

// The AWS identity the imitation APIs accept.
const (
	AccessKey = "AKIDEXAMPLE0123456789"
	SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// Creds are the static keys of AccessKey.
var Creds = aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}

// ECRHost is an ECR private registry host in Region. With
// AWS_ENDPOINT_URL_ECR pointing at the imitation API, getting its password
// reaches nothing beyond loopback.
const (
	Region  = "us-east-2"
	ECRHost = "123456789012.dkr.ecr.us-east-2.amazonaws.com"
)

// Build compiles the main package pkg (a directory; "." for the calling
// test's own) into a new temporary directory as name, as "go install" would,
// and returns the binary's path.
func Build(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, out)
	return bin
}

// ECR is an ECR-style registry (Basic "AWS" + password, one image pushed as
// molecule-ai/app:latest) and a GetAuthorizationToken API issuing passwords
// the registry accepts.
type ECR struct {
	Registry *registrytest.Server
	API      *registrytest.ECRAPI

	mu     sync.Mutex
	issued []string
}

// NewECR starts the registry and the API ("ecr" or "ecr-public", signed for
// region), issuing passwords that live for life.
func NewECR(t *testing.T, service, region string, life time.Duration) *ECR {
	t.Helper()
	e := &ECR{Registry: registrytest.NewServer(registrytest.Config{Mode: registrytest.ECR})}
	t.Cleanup(e.Registry.Close)
	e.API = registrytest.NewECRAPI(registrytest.ECRAPIConfig{
		Service: service, Region: region, Credentials: Creds,
		Issue: func() (string, time.Time) {
			exp := time.Now().Add(life)
			pw := e.Registry.IssueECRPassword(exp)
			e.mu.Lock()
			e.issued = append(e.issued, pw)
			e.mu.Unlock()
			return pw, exp
		},
	})
	t.Cleanup(e.API.Close)
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	_, err = e.Registry.Push("molecule-ai/app", "latest", img)
	require.NoError(t, err)
	return e
}

// Issued returns every password the API issued, oldest first.
func (e *ECR) Issued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.issued...)
}

// Pulls reports whether the registry accepts user and password for a
// manifest request.
func (e *ECR) Pulls(t *testing.T, user, password string) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, e.Registry.URL()+"/v2/molecule-ai/app/manifests/latest", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	req.SetBasicAuth(user, password)
	resp, err := e.Registry.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Env returns the variables a helper run starts from, on top of the test
// process's environment: a fresh HOME and XDG_CACHE_HOME, and every
// credential variable registrykit reads blanked. Add MOLECULE_IMAGE_REGISTRY
// and the rest per test; point the AWS SDK at an imitation with
// registrytest.SetAWSEnv.
func Env(t *testing.T) map[string]string {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{
		"HOME":           home,
		"XDG_CACHE_HOME": filepath.Join(home, "cache"),
		"DOCKER_CONFIG":  "", "REGISTRY_AUTH_FILE": "", "XDG_RUNTIME_DIR": "",
		"MOLECULE_IMAGE_REGISTRY": "", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "",
		"MOLECULE_IMAGE_REGISTRY_USER": "", "MOLECULE_IMAGE_REGISTRY_TOKEN": "",
		"GHCR_USER": "", "GHCR_TOKEN": "", "GITEA_USER": "", "GITEA_TOKEN": "",
		"GITLAB_USER": "", "GITLAB_TOKEN": "", "CI_REGISTRY_USER": "", "CI_REGISTRY_PASSWORD": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_DEFAULT_PROFILE": "", "AWS_ROLE_ARN": "",
	}
	return env
}

// Environ returns the process environment with env on top, as the kubelet
// and Docker's credential client build a helper's environment.
func Environ(env map[string]string) []string {
	out := os.Environ()
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// CacheFiles returns every file under the cache directory of env (none when
// it does not exist), failing t if the directory or a file is open to
// other users.
func CacheFiles(t *testing.T, env map[string]string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(env["XDG_CACHE_HOME"], "registrykit")
	out := map[string][]byte{}
	fi, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return out
	}
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "cache directory mode")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, de := range entries {
		info, err := de.Info()
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "mode of %s", de.Name())
		data, err := os.ReadFile(filepath.Join(dir, de.Name()))
		require.NoError(t, err)
		out[de.Name()] = data
	}
	return out
}
