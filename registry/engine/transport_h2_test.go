package engine

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is a TLS server that counts the connections it accepts and holds
// every request until n are in flight, so that requests that could share a
// connection are all waiting at once.
type server struct {
	*httptest.Server
	conns   atomic.Int32
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func newServer(t *testing.T, h2 bool, n int) *server {
	s := &server{release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.waiting++
		if s.waiting == n {
			close(s.release)
		}
		s.mu.Unlock()
		select {
		case <-s.release:
		case <-time.After(5 * time.Second): // never reached when n requests arrive together
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if h2 {
		s.EnableHTTP2 = true
	} else {
		s.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// fanOut sends n requests at once and waits for them.
func fanOut(t *testing.T, c *http.Client, url string, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(url)
			if assert.NoError(t, err) {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

// After an idle gap, nine concurrent requests to an HTTP/2 registry share
// one new connection; to an HTTP/1.1-only registry they keep nine.
func TestOneConnectionPerHTTP2HostAfterIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h2    bool
		conns int32
	}{
		{"http/2", true, 1},
		{"http/1.1 only", false, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.h2, 9)
			base := s.Client().Transport.(*http.Transport).Clone()
			tr := NewTransportFrom(base)
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}

			// Learn what the host speaks: one request (the barrier lets a
			// lone request through only after its timeout, so release it).
			close(s.release)
			resp, err := c.Get(s.URL)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, map[bool]int{true: 2, false: 1}[tc.h2], resp.ProtoMajor)
			resp, err = c.Get(s.URL)
			require.NoError(t, err)
			resp.Body.Close()
			if tc.h2 {
				assert.Equal(t, int32(1), s.conns.Load(), "learning the protocol costs no second connection")
			}

			tr.CloseIdleConnections() // the idle gap
			s.mu.Lock()
			s.waiting, s.release = 0, make(chan struct{})
			s.mu.Unlock()
			s.conns.Store(0)
			fanOut(t, c, s.URL, 9)
			assert.Equal(t, tc.conns, s.conns.Load())
			if tc.h2 {
				// Steady: the learning request's connection was the one used; no second.
				s.mu.Lock()
				s.waiting, s.release = 0, make(chan struct{})
				s.mu.Unlock()
				close(s.release)
				s.conns.Store(0)
				for range 3 {
					resp, err := c.Get(s.URL)
					require.NoError(t, err)
					resp.Body.Close()
				}
				assert.Zero(t, s.conns.Load(), "warm requests reuse the one connection")
			}
		})
	}
}

// The request observer sees every request by kind.
func TestRequestObserver(t *testing.T) {
	var mu sync.Mutex
	var kinds []string
	o := registry.NewOptions(registry.WithRequestObserver(func(r registry.Request) {
		mu.Lock()
		kinds = append(kinds, r.Kind+" "+r.Method)
		mu.Unlock()
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+"http://"+r.Host+`/token",service="s"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/token":
			_, _ = w.Write([]byte(`{"token":"t"}`))
		default:
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		}
	}))
	defer srv.Close()
	d := NewDriver(Spec{Flavor: registry.FlavorDistribution})
	b, err := d.Open(registry.Target{Prefix: registry.MustParsePrefix(strings.TrimPrefix(srv.URL, "http://") + "/org"), Options: o})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, []string{"ping GET", "token GET", "manifest HEAD"}, kinds)
}
