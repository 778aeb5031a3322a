package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/moby/moby/api/pkg/authconfig"
	mobyregistry "github.com/moby/moby/api/types/registry"
	"github.com/molecule-ai/registrykit/examples/internal/hookserver"
	"github.com/molecule-ai/registrykit/examples/internal/hookservertest"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func giteaEnv(t *testing.T) (*registrytest.Server, map[string]string) {
	t.Helper()
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea, Users: map[string]string{"bot": "gitea-secret-token"}})
	t.Cleanup(srv.Close)
	for _, rt := range []string{"langgraph", "codex"} {
		img, err := random.Image(32, 1)
		require.NoError(t, err)
		_, err = srv.Push("molecule-ai/workspace-template-"+rt, "latest", img)
		require.NoError(t, err)
	}
	return srv, map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", "GITEA_USER": "bot", "GITEA_TOKEN": "gitea-secret-token"}
}

func TestDockerAuthAndConfig(t *testing.T) {
	srv, envVars := giteaEnv(t)
	code, out, errOut := runCLI(t, envVars, "docker-auth")
	require.Equal(t, 0, code, errOut)
	a, err := authconfig.Decode(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, mobyregistry.AuthConfig{Username: "bot", Password: "gitea-secret-token", ServerAddress: srv.Host()}, *a)

	code, out, _ = runCLI(t, envVars, "docker-config")
	require.Equal(t, 0, code)
	var cfg struct{ Auths map[string]map[string]string }
	require.NoError(t, json.Unmarshal([]byte(out), &cfg))
	assert.Equal(t, "bot", cfg.Auths[srv.Host()]["username"])

	code, out, _ = runCLI(t, envVars, "docker-config", "-kubernetes", "regcred", "-namespace", "ws")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"type": "kubernetes.io/dockerconfigjson"`)
	assert.Contains(t, out, `"namespace": "ws"`)

	code, out, _ = runCLI(t, envVars, "docker-auth", "quay.io/someone/else:latest")
	require.Equal(t, 0, code)
	assert.Equal(t, "\n", out, "no credential for another registry")

	code, _, _ = runCLI(t, envVars, "docker-auth", "one", "two")
	assert.Equal(t, exitUsage, code)
}

func TestWatchOnce(t *testing.T) {
	_, envVars := giteaEnv(t)
	code, out, errOut := runCLI(t, envVars, "watch", "--once", "langgraph", "codex")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	for _, l := range lines {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		assert.Equal(t, "seed", ev["event"])
		assert.NotEmpty(t, ev["time"])
		assert.True(t, strings.HasPrefix(ev["new"].(string), "sha256:"))
		assert.Contains(t, ev["image"], "workspace-template-")
	}

	code, out, _ = runCLI(t, envVars, "watch", "--once", "hermes")
	assert.Equal(t, 1, code, "a missing image is an error event and a failing exit")
	assert.Contains(t, out, `"event":"error"`)

	code, _, _ = runCLI(t, envVars, "watch", "--once", "Not-Valid")
	assert.Equal(t, exitUsage, code, "a runtime that makes no repository name")
	code, _, _ = runCLI(t, envVars, "watch", "--once", "--platform", "linux")
	assert.Equal(t, exitUsage, code)
	code, _, errOut = runCLI(t, envVars, "watch", "--once", "--fleet", "redis://:s3cret-pw@redis.internal/notadb")
	assert.Equal(t, exitUsage, code, "a fleet URL that does not parse")
	assert.Contains(t, errOut, "--fleet")
	assert.NotContains(t, errOut, "s3cret-pw")
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "demo")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"1 request: 1 HEAD (cold",
		"1 request: 1 HEAD (steady",
		"seed    langgraph",
		"changed codex",
		`"password":"REDACTED"`,
		"0 /v2/ probe",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, demoPAT)
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// watch keeps running: an image re-pushed mid-run shows up as a changed
// event on a later tick, and the command ends cleanly with its context.
func TestWatchSeesARepush(t *testing.T) {
	srv, envVars := giteaEnv(t)
	var out, errOut lockedBuffer
	e := &env{stdout: &out, stderr: &errOut, environ: registry.EnvMap(envVars)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, e, []string{"watch", "--interval", "20ms", "codex"}) }()

	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"event":"seed"`) }, 10*time.Second, 5*time.Millisecond)
	img, err := random.Image(32, 1)
	require.NoError(t, err)
	h, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"event":"changed"`) }, 10*time.Second, 5*time.Millisecond)
	cancel()
	assert.Equal(t, 0, <-done, errOut.String())
	assert.Contains(t, out.String(), `"new":"`+h.String()+`"`)
}

// The ecr flavor forced on a loopback registry: the region comes from
// AWS_REGION, the password from the imitation API (SigV4 checked).
func TestDigestECRFlavor(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.ECR})
	defer srv.Close()
	img, err := random.Image(32, 1)
	require.NoError(t, err)
	h, err := srv.Push("molecule-ai/workspace-template-langgraph", "latest", img)
	require.NoError(t, err)
	creds := aws.Credentials{AccessKeyID: "AKIDCLI0123456789012", SecretAccessKey: "cli/secret/key"}
	api := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: "eu-west-1", Credentials: creds,
		Issue: func() (string, time.Time) {
			exp := time.Now().Add(12 * time.Hour)
			return srv.IssueECRPassword(exp), exp
		}})
	defer api.Close()
	registrytest.SetAWSEnv(t, creds, "AWS_ENDPOINT_URL_ECR", api.URL())
	envVars := map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "ecr", "AWS_REGION": "eu-west-1"}

	code, out, errOut := runCLI(t, envVars, "digest", "--runtime", "langgraph")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, h.String()+"\n", out)
	assert.Empty(t, api.Errors())

	code, out, _ = runCLI(t, envVars, "docker-auth")
	require.Equal(t, 0, code)
	a, err := authconfig.Decode(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "AWS", a.Username)
	assert.Equal(t, srv.Host(), a.ServerAddress)

	delete(envVars, "AWS_REGION")
	code, _, errOut = runCLI(t, envVars, "digest", "--runtime", "langgraph")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "AWS_REGION")
}

// backend -probe names the registry software its challenge reveals.
func TestBackendProbeNamesTheProduct(t *testing.T) {
	for mode, want := range map[registrytest.Mode][2]string{
		registrytest.Gitea:  {"gitea", "gitea"},
		registrytest.GitLab: {"gitlab", "gitlab"},
		registrytest.Harbor: {"distribution", "harbor"},
		registrytest.Quay:   {"distribution", "quay"},
	} {
		srv := registrytest.NewServer(registrytest.Config{Mode: mode})
		code, out, errOut := runCLI(t, map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/org"}, "backend", "-probe")
		srv.Close()
		require.Equal(t, 0, code, errOut)
		var info map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &info))
		assert.Equal(t, want[0], info["flavor"], want[1])
		assert.Equal(t, want[1], info["product"])
	}
}

// watch --listen checks an image as soon as a push event for it arrives,
// long before the next tick.
func TestWatchListensForPushEvents(t *testing.T) {
	srv, envVars := giteaEnv(t)
	envVars["REGISTRYCTL_EVENT_SECRET"] = "Bearer event-secret-0123456789"
	var out, errOut lockedBuffer
	e := &env{stdout: &out, stderr: &errOut, environ: registry.EnvMap(envVars)}
	addr, done, cancel := startWatchListen(t, e, &out, &errOut)
	img, err := random.Image(32, 1)
	require.NoError(t, err)
	h, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img)
	require.NoError(t, err)
	body := `{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-codex","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer event-secret-0123456789")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"event":"changed"`) }, 10*time.Second, 5*time.Millisecond,
		"changed before any tick: the interval is an hour")
	assert.Contains(t, out.String(), `"new":"`+h.String()+`"`)
	cancel()
	assert.Equal(t, 0, <-done, errOut.String())
}

// watch --listen cuts off a request whose body trickles in: the whole
// request, body included, must arrive within the read bound.
func TestWatchListenCutsOffATrickledBody(t *testing.T) {
	_, envVars := giteaEnv(t)
	envVars["REGISTRYCTL_EVENT_SECRET"] = "Bearer event-secret-0123456789"
	var out, errOut lockedBuffer
	e := &env{stdout: &out, stderr: &errOut, environ: registry.EnvMap(envVars),
		listenTimeouts: hookserver.Timeouts{Read: 200 * time.Millisecond}}
	addr, done, cancel := startWatchListen(t, e, &out, &errOut)

	answered := hookservertest.Trickle(t, addr, "/", http.Header{"Authorization": {"Bearer event-secret-0123456789"}})
	select {
	case status := <-answered:
		assert.NotEqual(t, http.StatusAccepted, status, "the body was never finished")
	case <-time.After(5 * time.Second):
		t.Fatal("watch --listen still waits for a trickled body")
	}
	cancel()
	assert.Equal(t, 0, <-done, errOut.String())
}

// startWatchListen runs "watch --listen" on a loopback port and returns the
// address it listens on once it has seeded, its exit code's channel and
// what stops it.
func startWatchListen(t *testing.T, e *env, out, errOut *lockedBuffer) (string, chan int, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, e, []string{"watch", "--interval", "1h", "--listen", "127.0.0.1:0", "--events", "registry", "codex"})
	}()
	var addr string
	require.Eventually(t, func() bool {
		_, rest, ok := strings.Cut(errOut.String(), "push events on ")
		addr = strings.TrimSpace(rest)
		return ok && strings.Contains(out.String(), `"event":"seed"`)
	}, 10*time.Second, 5*time.Millisecond)
	return addr, done, cancel
}
