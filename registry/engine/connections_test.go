package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trusting returns NewTransport trusting srv's certificate.
func trusting(srv *httptest.Server) *http.Transport {
	tr := NewTransport()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig.RootCAs = pool
	return tr
}

// A connection opened after an idle gap resumes the TLS session of the one
// before, on HTTP/2 and HTTP/1.1 alike: the tick after an idle gap skips
// the certificate exchange.
func TestReconnectResumesTLSSession(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		var mu sync.Mutex
		var resumed []bool
		var protos []int
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			resumed = append(resumed, r.TLS.DidResume)
			protos = append(protos, r.ProtoMajor)
			mu.Unlock()
		}))
		if h2 {
			srv.EnableHTTP2 = true
		} else {
			srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
		}
		srv.StartTLS()
		tr := trusting(srv)
		c := &http.Client{Transport: tr}
		for range 2 {
			resp, err := c.Get(srv.URL)
			require.NoError(t, err)
			resp.Body.Close()
			tr.CloseIdleConnections() // the idle gap
		}
		srv.Close()
		assert.Equal(t, []bool{false, true}, resumed, "h2=%v", h2)
		want := map[bool]int{true: 2, false: 1}[h2]
		assert.Equal(t, []int{want, want}, protos, "HTTP/2 where the registry offers it")
	}
}

// A host that accepts connections and never completes a TLS handshake
// fails every request waiting for it at once: each request dials its own
// connection, so five requests hold five handshakes at the same time rather
// than queueing one behind another (which cost 5 × the handshake timeout).
func TestStalledHandshakeFailsEveryQueuedRequestAtOnce(t *testing.T) {
	const n = 5
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	allHeld := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // read nothing, answer nothing
			if len(conns) == n {
				close(allHeld)
			}
		}
	}()
	tr := NewTransport()
	tr.TLSHandshakeTimeout = time.Minute // longer than the test may run: the requests end with their context
	c := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "https://"+ln.Addr().String()+"/v2/", nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	select {
	case <-allHeld:
	case <-time.After(10 * time.Second):
		t.Fatal("the requests did not each hold a handshake at the same time")
	}
	cancel()
	for range n {
		assert.Error(t, <-errs)
	}
}

// The request observer sees each request a check costs, by kind.
func TestRequestObserver(t *testing.T) {
	var mu sync.Mutex
	var kinds []string
	o := &registry.Options{OnRequest: func(r registry.Request) {
		mu.Lock()
		kinds = append(kinds, r.Kind+" "+r.Method)
		mu.Unlock()
	}}
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
	b, err := Open(registry.MustParsePrefix(strings.TrimPrefix(srv.URL, "http://")+"/org"), []Spec{{Flavor: registry.FlavorDistribution, Fallback: true}},
		&registry.Options{OnRequest: o.OnRequest})
	require.NoError(t, err)
	_, err = b.ManifestDigest(context.Background(), "app", "latest")
	require.NoError(t, err)
	assert.Equal(t, []string{"ping GET", "token GET", "manifest HEAD"}, kinds)
}
