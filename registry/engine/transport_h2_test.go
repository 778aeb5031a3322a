package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
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
// every request until n are in flight (none with n = 0 once reset(0) opened
// the barrier), so that requests that could share a connection are all
// waiting at once.
type server struct {
	*httptest.Server
	conns    atomic.Int32
	timeouts atomic.Int32 // requests the barrier let through only after its timeout
	mu       sync.Mutex
	waiting  int
	release  chan struct{}
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
			s.timeouts.Add(1)
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

// reset arms the barrier again for n requests and zeroes the counters.
func (s *server) reset(n int) {
	s.mu.Lock()
	s.waiting, s.release = 0, make(chan struct{})
	if n <= 0 {
		close(s.release)
	}
	s.mu.Unlock()
	s.conns.Store(0)
	s.timeouts.Store(0)
}

// get sends one request and closes its body.
func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// clientTransport is the server's client transport with HTTP/2 offered, as
// NewHTTPTransport does; with ownTLSDialer it dials TLS through a
// DialTLSContext of its own, which the Transport leaves alone.
func clientTransport(s *server, ownTLSDialer bool) *http.Transport {
	base := s.Client().Transport.(*http.Transport).Clone()
	base.ForceAttemptHTTP2 = true
	if ownTLSDialer {
		cfg := base.TLSClientConfig.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		base.DialTLSContext = (&tls.Dialer{Config: cfg}).DialContext
	}
	return base
}

// After an idle gap, nine concurrent requests to an HTTP/2 registry share
// one new connection; to an HTTP/1.1-only registry they keep nine. Learning
// what a host speaks costs no connection, unless the base transport dials
// TLS itself (then an HTTP/1.1-only host costs one, once).
func TestOneConnectionPerHTTP2HostAfterIdle(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		h2, ownTLSDialer      bool
		learnConns, idleConns int32
	}{
		{"http/2", true, false, 1, 1},
		{"http/1.1 only", false, false, 1, 9},
		{"http/2, own TLS dialer", true, true, 1, 1},
		{"http/1.1 only, own TLS dialer", false, true, 2, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.h2, 9)
			tr := NewTransportFrom(clientTransport(s, tc.ownTLSDialer))
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}

			// Learn what the host speaks: one request, then another.
			s.reset(0)
			resp := get(t, c, s.URL)
			assert.Equal(t, map[bool]int{true: 2, false: 1}[tc.h2], resp.ProtoMajor)
			get(t, c, s.URL)
			assert.Equal(t, tc.learnConns, s.conns.Load(), "connections to learn the protocol and send again")

			tr.CloseIdleConnections() // the idle gap
			s.reset(9)
			fanOut(t, c, s.URL, 9)
			assert.Equal(t, tc.idleConns, s.conns.Load())
			assert.Zero(t, s.timeouts.Load(), "the nine requests were in flight together")

			s.reset(0)
			for range 3 {
				get(t, c, s.URL)
			}
			assert.Zero(t, s.conns.Load(), "warm requests reuse the connections")
		})
	}
}

// The first requests to an HTTP/1.1-only host run in parallel: none waits
// for another's connection while the host's protocol is being learned.
func TestFirstRequestsToHTTP1HostRunInParallel(t *testing.T) {
	s := newServer(t, false, 9)
	tr := NewTransportFrom(clientTransport(s, false))
	defer tr.CloseIdleConnections()
	fanOut(t, &http.Client{Transport: tr}, s.URL, 9)
	assert.Equal(t, int32(9), s.conns.Load())
	assert.Zero(t, s.timeouts.Load(), "the nine requests were in flight together")
}

// A request with a body that is moved to parallel connections sends its
// body there; one whose body cannot be read again goes there first.
func TestRequestBodyFollowsTheRequestToHTTP1Host(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	defer srv.Close()
	base := srv.Client().Transport.(*http.Transport).Clone()
	base.ForceAttemptHTTP2 = true

	const form = "grant_type=refresh_token"
	for _, rewindable := range []bool{true, false} {
		tr := NewTransportFrom(base)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/token", newOnceBody(form))
		require.NoError(t, err)
		if rewindable {
			req.GetBody = func() (io.ReadCloser, error) { return newOnceBody(form), nil }
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 1, resp.ProtoMajor)
		tr.CloseIdleConnections()
	}
	assert.Equal(t, []string{form, form}, bodies)
}

// onceBody is a request body that cannot be read once closed, as a real
// stream cannot.
type onceBody struct {
	r      io.Reader
	closed atomic.Bool
}

func newOnceBody(s string) *onceBody { return &onceBody{r: strings.NewReader(s)} }

func (b *onceBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errors.New("read after close")
	}
	return b.r.Read(p)
}

func (b *onceBody) Close() error { b.closed.Store(true); return nil }

// A connection parked for the parallel transport is closed when no dial
// takes it within its short life, and by CloseIdleConnections.
func TestParkedConnectionIsClosed(t *testing.T) {
	for _, byTimer := range []bool{true, false} {
		tr := NewTransport()
		tr.spareLife = time.Millisecond
		if !byTimer {
			tr.spareLife = time.Hour
		}
		ours, peer := net.Pipe()
		tr.park("reg.example:443", ours)
		if !byTimer {
			tr.CloseIdleConnections()
		}
		closed := make(chan error, 1)
		go func() {
			_, err := peer.Read(make([]byte, 1)) // returns once ours is closed
			closed <- err
		}()
		select {
		case err := <-closed:
			assert.ErrorIs(t, err, io.EOF)
		case <-time.After(10 * time.Second): // a failure, not a wait
			t.Fatalf("byTimer=%v: the parked connection was never closed", byTimer)
		}
		assert.Nil(t, tr.take("reg.example:443"))
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

// connectProxy is an HTTPS proxy that tunnels CONNECT requests, counting
// them; it speaks HTTP/1.1 only, as most proxies do. It reaches
// example.com (a name the test servers' certificate holds) on loopback.
func connectProxy(t *testing.T) (*httptest.Server, *atomic.Int32) {
	return holdingProxy(t, nil, nil)
}

// holdingProxy is connectProxy whose first CONNECT, once arrived is
// closed, waits until hold is closed (nil: no wait).
func holdingProxy(t *testing.T, arrived, hold chan struct{}) (*httptest.Server, *atomic.Int32) {
	var tunnels atomic.Int32
	var first sync.Once
	p := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if hold != nil {
			first.Do(func() { close(arrived); <-hold })
		}
		upstream, err := net.Dial("tcp", strings.Replace(r.Host, "example.com:", "127.0.0.1:", 1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		client, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(upstream, buf); upstream.Close() }()
		_, _ = io.Copy(client, upstream)
		client.Close()
	}))
	p.StartTLS()
	t.Cleanup(p.Close)
	return p, &tunnels
}

// Through an HTTPS proxy the Transport dials the proxy as net/http does and
// learns the registry's protocol from its answers: an HTTP/2 registry still
// gets one connection after an idle gap.
func TestThroughAnHTTPSProxy(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		s := newServer(t, h2, 9)
		proxy, tunnels := connectProxy(t)
		base := clientTransport(s, false)
		proxyURL := useProxy(t, base, proxy)
		tr := NewTransportFrom(base)
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}

		s.reset(0)
		resp := get(t, c, s.URL)
		assert.Equal(t, map[bool]int{true: 2, false: 1}[h2], resp.ProtoMajor)
		tr.CloseIdleConnections()
		s.reset(9)
		tunnels.Store(0)
		fanOut(t, c, s.URL, 9)
		assert.Equal(t, map[bool]int32{true: 1, false: 9}[h2], tunnels.Load(), "h2=%v", h2)
		assert.Zero(t, s.timeouts.Load())
		assert.Nil(t, tr.take(proxyURL.Host), "nothing parked for the proxy")
	}
}

// A connection opened after an idle gap resumes the TLS session of the
// one before, on HTTP/2 and HTTP/1.1 alike, directly and through an HTTPS
// proxy (where net/http dials the registry's TLS itself). Sessions are
// cached by server name, so the registry is reached as example.com, not
// under the proxy's name.
func TestReconnectResumesTLSSession(t *testing.T) {
	for _, tc := range []struct{ h2, viaProxy bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		var resumed []bool
		var mu sync.Mutex
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			resumed = append(resumed, r.TLS.DidResume)
			mu.Unlock()
		}))
		if tc.h2 {
			srv.EnableHTTP2 = true
		} else {
			srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
		}
		srv.StartTLS()
		base := srv.Client().Transport.(*http.Transport).Clone()
		base.ForceAttemptHTTP2 = true
		if tc.viaProxy {
			proxy, _ := connectProxy(t)
			useProxy(t, base, proxy)
		}
		target := srv.URL
		if tc.viaProxy {
			target = strings.Replace(target, "127.0.0.1", "example.com", 1)
		}
		tr := NewTransportFrom(base)
		c := &http.Client{Transport: tr}
		get(t, c, target)
		tr.CloseIdleConnections() // the idle gap
		get(t, c, target)
		tr.CloseIdleConnections()
		srv.Close()
		assert.Equal(t, []bool{false, true}, resumed, "%+v", tc)
	}
}

// When net/http's HTTP/2 is turned off (GODEBUG=http2client=0), the
// Transport offers only what net/http then speaks: HTTP/1.1.
func TestHTTP2TurnedOffByGODEBUG(t *testing.T) {
	t.Setenv("GODEBUG", "http2client=0")
	s := newServer(t, true, 0)
	s.reset(0)
	tr := NewTransportFrom(clientTransport(s, false))
	defer tr.CloseIdleConnections()
	resp := get(t, &http.Client{Transport: tr}, s.URL)
	assert.Equal(t, 1, resp.ProtoMajor)
}

// A base limited to HTTP/2 by Protocols stays limited: an HTTP/1.1-only
// registry is refused, as net/http refuses it.
func TestProtocolsHTTP2Only(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		s := newServer(t, h2, 0)
		s.reset(0)
		base := clientTransport(s, false)
		base.Protocols = new(http.Protocols)
		base.Protocols.SetHTTP2(true)
		tr := NewTransportFrom(base)
		resp, err := (&http.Client{Transport: tr}).Get(s.URL)
		_, nativeErr := (&http.Client{Transport: base}).Get(s.URL)
		if h2 {
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 2, resp.ProtoMajor)
		} else {
			assert.Error(t, err, "as net/http: %v", nativeErr)
			assert.Error(t, nativeErr)
		}
		tr.CloseIdleConnections()
		base.CloseIdleConnections()
	}
}

// A TLS handshake that outlasts TLSHandshakeTimeout fails as net/http's
// does: a net.Error that times out (which the engine retries), not the
// request's context ending.
func TestHandshakeTimeoutIsANetworkTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // accept and say nothing
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	base := NewHTTPTransport()
	base.TLSHandshakeTimeout = 50 * time.Millisecond
	tr := NewTransportFrom(base)
	req, err := http.NewRequest(http.MethodGet, "https://"+ln.Addr().String()+"/v2/", nil)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "TLS handshake timeout")
	assert.True(t, retryableNetError(err))
}

// Where the protocol is learned from the connection (through a proxy, or
// over a base with its own TLS dialer), the first requests to an
// HTTP/1.1-only host wait only for the first one's connection and then run
// in parallel; to an HTTP/2 host they share its connection.
func TestFirstBurstLearnedFromTheConnection(t *testing.T) {
	for _, tc := range []struct {
		name         string
		h2, viaProxy bool
		conns        int32
	}{
		{"http/1.1 only, through a proxy", false, true, 9},
		{"http/2, through a proxy", true, true, 1},
		{"http/1.1 only, own TLS dialer", false, false, 9},
		{"http/2, own TLS dialer", true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.h2, 9)
			base := clientTransport(s, !tc.viaProxy)
			var tunnels *atomic.Int32
			if tc.viaProxy {
				var proxy *httptest.Server
				proxy, tunnels = connectProxy(t)
				useProxy(t, base, proxy)
			}
			tr := NewTransportFrom(base)
			defer tr.CloseIdleConnections()
			fanOut(t, &http.Client{Transport: tr}, s.URL, 9)
			assert.Equal(t, tc.conns, s.conns.Load())
			if tunnels != nil {
				assert.Equal(t, tc.conns, tunnels.Load())
			}
			assert.Zero(t, s.timeouts.Load(), "the nine requests were in flight together")
		})
	}
}

// The connection handed over from the first request to an HTTP/1.1-only
// host is the one it is sent on: one connection in all, and none left
// parked to go stale.
func TestNoConnectionLeftParked(t *testing.T) {
	s := newServer(t, false, 0)
	s.reset(0)
	tr := NewTransportFrom(clientTransport(s, false))
	defer tr.CloseIdleConnections()
	get(t, &http.Client{Transport: tr}, s.URL)
	tr.mu.Lock()
	assert.Empty(t, tr.spares)
	tr.mu.Unlock()
	assert.Equal(t, int32(1), s.conns.Load())
}

// When the request learning a proxied host's protocol ends before it has a
// connection, the requests waiting on it do not queue for one connection:
// one of them learns, and the rest go to parallel connections.
func TestLearnerGivingUpReleasesWaitersToLearn(t *testing.T) {
	s := newServer(t, false, 8)
	arrived, hold := make(chan struct{}), make(chan struct{})
	proxy, _ := holdingProxy(t, arrived, hold)
	base := clientTransport(s, false)
	useProxy(t, base, proxy)
	tr := NewTransportFrom(base)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	ctx, giveUp := context.WithCancel(context.Background())
	learnerDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		learnerDone <- err
	}()
	<-arrived // the learner's tunnel is being set up
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(s.URL)
			if assert.NoError(t, err) {
				resp.Body.Close()
			}
		}()
	}
	host := tr.host(hostPort(mustURL(t, s.URL)))
	for host.waiting.Load() < 8 {
		runtime.Gosched() // until all eight wait on the learner
	}
	giveUp()
	assert.ErrorIs(t, <-learnerDone, context.Canceled)
	close(hold)
	wg.Wait()
	assert.Zero(t, s.timeouts.Load(), "the eight requests were in flight together")
}

// useProxy sends base's requests through proxy and returns its URL.
func useProxy(t *testing.T, base *http.Transport, proxy *httptest.Server) *url.URL {
	u := mustURL(t, proxy.URL)
	base.Proxy = http.ProxyURL(u)
	return u
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// The Transport's own TLS dialing verifies certificates as net/http's
// does: an untrusted certificate and a name the certificate does not hold
// are refused, on an HTTP/2 and an HTTP/1.1-only registry alike.
func TestOwnTLSDialingVerifiesCertificates(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		s := newServer(t, h2, 0)
		s.reset(0)
		untrusting := NewTransportFrom(NewHTTPTransport()) // system roots only
		_, err := (&http.Client{Transport: untrusting}).Get(s.URL)
		var unknown *tls.CertificateVerificationError
		assert.ErrorAs(t, err, &unknown, "h2=%v: an untrusted certificate", h2)

		trusting := NewTransportFrom(clientTransport(s, false))
		_, port, _ := net.SplitHostPort(mustURL(t, s.URL).Host)
		_, err = (&http.Client{Transport: trusting}).Get("https://localhost:" + port) // the certificate holds example.com and 127.0.0.1
		var wrongName x509.HostnameError
		assert.ErrorAs(t, err, &wrongName, "h2=%v: a name the certificate does not hold", h2)
	}
}
