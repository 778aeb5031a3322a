package engine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScheme(t *testing.T) {
	o := &registry.Options{InsecureHosts: []string{"reg.lan", "other.lan:5000"}}
	cases := map[string]string{
		"127.0.0.1:5000": "http", "127.8.9.10": "http", "[::1]:5000": "http", "localhost:5000": "http",
		"registry.localhost": "https", "LOCALHOST.:5000": "https", "reg.lan": "http", "reg.lan:5000": "http", "other.lan:5000": "http",
		"other.lan:6000": "https", "10.0.0.1:5000": "https", "192.168.1.2": "https", "ghcr.io": "https",
		"localhost.example.com": "https",
		// Spellings Go's dialer sends to DNS, or dials off this machine,
		// are not loopback (host identity, security issue 22 items 1-2).
		"127.1:80": "https", "0x7f.0.0.1:5000": "https", "0x7f000001": "https", "2130706433:80": "https",
		"[64:ff9b::7f00:1]:5000": "https", "[::7f00:1]:5000": "https",
	}
	for host, want := range cases {
		assert.Equal(t, want, Scheme(host, o), host)
	}
	assert.Equal(t, "https", Scheme("reg.lan", nil))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"2": 2 * time.Second, " 120 ": 2 * time.Minute, "0": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		got, ok := parseRetryAfter(v, now)
		assert.True(t, ok, v)
		assert.Equal(t, want, got, v)
	}
	got, ok := parseRetryAfter("999999999", now)
	assert.True(t, ok)
	assert.Equal(t, maxReportedRetryAfter, got, "an absurd Retry-After is capped")
	got, _ = parseRetryAfter(now.AddDate(30, 0, 0).Format(http.TimeFormat), now)
	assert.Equal(t, maxReportedRetryAfter, got)
	for _, bad := range []string{"", "-1", "soon", "1.5"} {
		_, ok := parseRetryAfter(bad, now)
		assert.False(t, ok, bad)
	}
}

func TestRedactURL(t *testing.T) {
	assert.Equal(t, "https://REDACTED@reg.example/v2/", redactURL("https://user:pw@reg.example/v2/"))
	got := redactURL("https://auth.example/token?scope=repository%3Aa%3Apull&service=s&password=hunter2&access_token=abc")
	assert.NotContains(t, got, "hunter2")
	assert.NotContains(t, got, "abc")
	assert.Contains(t, got, "scope=repository%3Aa%3Apull")
	assert.Equal(t, "<unparseable URL>", redactURL("http://[::1"))
}

func TestReadBodyBound(t *testing.T) {
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 11)))}
	_, err := readBody(resp, 10)
	require.ErrorIs(t, err, registry.ErrBadResponse)
	resp = &http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 10)))}
	b, err := readBody(resp, 10)
	require.NoError(t, err)
	assert.Len(t, b, 10)
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	for attempt := 1; attempt <= 10; attempt++ {
		for range 50 {
			d := backoff(attempt)
			full := min(baseBackoff<<(attempt-1), maxBackoff)
			assert.GreaterOrEqual(t, d, full/2)
			assert.LessOrEqual(t, d, full)
		}
	}
}

func TestRedirects(t *testing.T) {
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, "other:"+r.Header.Get("Authorization"))
	}))
	defer other.Close()
	var origin *httptest.Server
	origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, "origin:"+r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, origin.URL+"/done", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, other.URL+"/done", http.StatusTemporaryRedirect)
		}
	}))
	defer origin.Close()
	c, _ := newClient(&registry.Options{})
	for _, path := range []string{"/same", "/away"} {
		req, _ := http.NewRequest(http.MethodGet, origin.URL+path, nil)
		req.Header.Set("Authorization", "Bearer t0k3n")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, []string{"origin:Bearer t0k3n", "origin:Bearer t0k3n", "origin:Bearer t0k3n", "other:"}, seen,
		"kept on the same host, dropped on another")

	downgrade := apiRedirects(&registry.Options{})
	first, _ := http.NewRequest(http.MethodGet, "https://reg.example/v2/", nil)
	next, _ := http.NewRequest(http.MethodGet, "http://reg.example/v2/", nil)
	assert.ErrorIs(t, downgrade(next, []*http.Request{first}), registry.ErrInsecure)
}

// A loopback registry (plain HTTP) that redirects to plain HTTP on another
// host — neither loopback nor listed with WithInsecureHosts — is refused
// before anything is sent there; a listed host is followed (issue 22, item 4).
func TestPlainHTTPRedirectOffLoopbackIsRefused(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://mirror.example:8080/v2/org/app/manifests/latest", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	req, _ := http.NewRequest(http.MethodHead, origin.URL+"/v2/org/app/manifests/latest", nil)
	c, _ := newClient(&registry.Options{})
	_, err := c.Do(req)
	require.ErrorIs(t, err, registry.ErrInsecure)
	assert.ErrorContains(t, err, "mirror.example:8080")

	first, _ := http.NewRequest(http.MethodGet, origin.URL+"/v2/", nil)
	for _, tc := range []struct {
		target string
		o      *registry.Options
		ok     bool
	}{
		{"http://mirror.example:8080/x", &registry.Options{}, false},
		{"http://mirror.example:8080/x", &registry.Options{InsecureHosts: []string{"mirror.example"}}, true},
		{"http://mirror.example:8080/x", &registry.Options{InsecureHosts: []string{"mirror.example:8080"}}, true},
		{"http://0x7f.0.0.1:8080/x", &registry.Options{}, false},
		{"http://localhost:8080/x", &registry.Options{}, true},
		{"https://mirror.example/x", &registry.Options{}, true},
	} {
		next, _ := http.NewRequest(http.MethodGet, tc.target, nil)
		err := apiRedirects(tc.o)(next, []*http.Request{first})
		if tc.ok {
			assert.NoError(t, err, tc.target)
		} else {
			assert.ErrorIs(t, err, registry.ErrInsecure, tc.target)
		}
	}
}

func TestRetryTransport(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	clock := registrytest.NewClock(time.Now())
	c, _ := newClient(&registry.Options{Clock: clock})
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 3, calls)
	require.Len(t, clock.Slept(), 2)
	for _, d := range clock.Slept() {
		assert.GreaterOrEqual(t, d, time.Second)
	}

	calls = 0
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("x"))
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, calls, "a POST is not retried")
}
