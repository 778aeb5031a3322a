package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A signed GitHub delivery refreshes at once, /metrics counts it, and
// /healthz is green once checks run.
func TestListener(t *testing.T) {
	b := registrytest.NewBackend("ghcr.io/molecule-ai")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v1"))
	m := newMetrics()
	refreshed := make(chan string, 1)
	w, err := watch.New(b, &watch.Options{Runtimes: []string{"codex"}, Observer: m, Interval: time.Hour, Handler: func(_ context.Context, img watch.Image, _, _ string) error {
		refreshed <- img.Runtime
		return nil
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(m.mux(w, hooks{github: "gh-secret-0123456789"}, time.Minute))
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, _ := get("/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "no check yet")
	w.Check(context.Background())
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code)

	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v2"))
	body := `{"action":"published","package":{"name":"workspace-template-codex","namespace":"molecule-ai","package_type":"CONTAINER","package_version":{"container_metadata":{"tag":{"name":"latest"}}}}}`
	mac := hmac.New(sha256.New, []byte("gh-secret-0123456789"))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hooks/github", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "package")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	// The delivery is answered at once; its check runs once the watcher runs.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	select {
	case rt := <-refreshed:
		assert.Equal(t, "codex", rt)
	case <-time.After(10 * time.Second):
		t.Fatal("the pushed image was not refreshed")
	}

	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/hooks/github", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "package")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	code, metrics := get("/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`imagewatch_event_deliveries_total{accepted="true",reason="",source="github"} 1`,
		`imagewatch_event_deliveries_total{accepted="false",reason="signature",source="github"} 1`,
		`imagewatch_checks_total{outcome="changed"} 1`,
		`imagewatch_checks_total{outcome="seed"} 1`,
		`imagewatch_event_to_change_seconds_count 1`,
	} {
		assert.Contains(t, metrics, want)
	}
	m.request(registry.Request{Kind: "manifest", Status: 200, Duration: time.Millisecond})
	_, metrics = get("/metrics")
	assert.Contains(t, metrics, `imagewatch_registry_requests_total{kind="manifest",status="200"} 1`)
	assert.NotContains(t, metrics, "imagewatch_registry_pulls_remaining{", "no limit reported, no gauge")
	m.request(registry.Request{Kind: "manifest", Method: "GET", Host: "registry-1.docker.io", Status: 200, RateLimit: 100, RateRemaining: 76})
	_, metrics = get("/metrics")
	assert.Contains(t, metrics, `imagewatch_registry_pull_limit{host="registry-1.docker.io"} 100`)
	assert.Contains(t, metrics, `imagewatch_registry_pulls_remaining{host="registry-1.docker.io"} 76`)
}
