package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// The network rig: a registrytest.Server (the registry), behind a TLS 1.3
// front that counts what reaches it, behind a proxy that delays every byte
// by half a round trip each way. Clients reach it by a name that is not
// loopback (so that every client, registrykit included, speaks HTTPS), and
// their transport's dialer sends that name to the proxy on 127.0.0.1 and
// refuses every other address.
//
//	client ──(dial: +1 RTT, TCP's handshake)──▶ proxy ──(+RTT/2 each way)──▶ TLS front ──▶ registrytest
//
// Nothing leaves loopback.

// The registries' names, as clients see them. They resolve only through
// the rig's dialer.
const (
	netGHCRHost  = "ghcr.netbench.test"
	netGiteaHost = "gitea.netbench.test"
	netOrg       = "molecule-ai"
)

// NetFlavor is the registry a network variant imitates.
type NetFlavor string

// The flavors measured over the network.
const (
	NetGHCR NetFlavor = "GHCR-like"
	// NetGHCRAll is GHCR-like with a token service that reads every scope
	// of a request, as the distribution token spec allows
	// (docs/content/spec/auth/scope.md in distribution/distribution) and
	// GitLab, Harbor and Quay do: a watcher's tick then asks one token for
	// all its images.
	NetGHCRAll NetFlavor = "GHCR-like, every scope"
	NetGitea   NetFlavor = "Gitea-like"
)

// NetVariant is one registry the network benchmark measures: a flavor
// served over HTTP/2 or HTTP/1.1 only.
type NetVariant struct {
	Flavor NetFlavor
	HTTP2  bool
}

func (v NetVariant) String() string {
	proto := "HTTP/1.1 only"
	if v.HTTP2 {
		proto = "HTTP/2"
	}
	return fmt.Sprintf("%s, %s", v.Flavor, proto)
}

// NetVariants returns every variant, in report order.
func NetVariants() []NetVariant {
	return []NetVariant{{NetGHCR, true}, {NetGHCR, false}, {NetGHCRAll, true}, {NetGHCRAll, false}, {NetGitea, true}, {NetGitea, false}}
}

// netPKI is a CA and a leaf certificate for both registry names, made once
// per process.
var netPKI = sync.OnceValues(func() (*netCerts, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registrykit netbench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: netGHCRHost},
		DNSNames:  []string{netGHCRHost, netGiteaHost},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &netCerts{pool: pool, cert: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}, nil
})

type netCerts struct {
	pool *x509.CertPool
	cert tls.Certificate
}

// NetCounts is what reached the registry during one step.
type NetCounts struct {
	Token, Head, Get, Ping, Other int64
	// Conns is new TCP connections accepted; Handshakes TLS handshakes
	// completed.
	Conns, Handshakes int64
}

// Requests returns every request counted.
func (c NetCounts) Requests() int64 { return c.Token + c.Head + c.Get + c.Ping + c.Other }

// netFront is the TLS front: a reverse proxy to the registrytest server
// (which counts the requests by kind) that counts accepted connections and
// TLS handshakes.
type netFront struct {
	srv     *httptest.Server
	backend *http.Transport

	conns, handshakes atomic.Int64

	mu      sync.Mutex
	pending int           // connections accepted, neither handshaken nor closed
	changed chan struct{} // closed and replaced whenever pending changes
	live    map[*trackedConn]struct{}
}

func newNetFront(target string, http2 bool, certs *netCerts) *netFront {
	f := &netFront{changed: make(chan struct{}), live: map[*trackedConn]struct{}{}}
	f.backend = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     time.Minute,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// Out.Host stays the name the client used, so the registry's
			// challenges and token service name it.
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
		},
		Transport: f.backend,
		// registrytest writes realm="http://<Host>/…": behind TLS it is https.
		ModifyResponse: func(resp *http.Response) error {
			if v := resp.Header.Values("WWW-Authenticate"); len(v) > 0 {
				resp.Header.Del("WWW-Authenticate")
				for _, h := range v {
					resp.Header.Add("WWW-Authenticate", strings.ReplaceAll(h, `realm="http://`, `realm="https://`))
				}
			}
			return nil
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	f.srv = httptest.NewUnstartedServer(rp)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.Listener = &countingListener{Listener: f.srv.Listener, f: f}
	protos := []string{"http/1.1"}
	if http2 {
		f.srv.EnableHTTP2 = true
		protos = []string{"h2", "http/1.1"}
	} else {
		f.srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	base := &tls.Config{Certificates: []tls.Certificate{certs.cert}, NextProtos: protos, MinVersion: tls.VersionTLS13}
	f.srv.TLS = &tls.Config{
		Certificates: base.Certificates, NextProtos: protos, MinVersion: tls.VersionTLS13,
		// A configuration per connection, to know which one finished its
		// handshake.
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			tc, _ := hello.Conn.(*trackedConn)
			c.VerifyConnection = func(tls.ConnectionState) error {
				f.handshakes.Add(1)
				if tc != nil {
					f.settle(tc, connHandshaken)
				}
				return nil
			}
			return c, nil
		},
	}
	f.srv.StartTLS()
	return f
}

// Addr is the front's loopback address.
func (f *netFront) Addr() string { return f.srv.Listener.Addr().String() }

// Reset zeroes the counters.
func (f *netFront) Reset() {
	f.conns.Store(0)
	f.handshakes.Store(0)
}

// Quiet waits until every connection accepted has finished its TLS
// handshake or closed, so that a handshake a step started is counted in
// that step; it gives up after timeout.
func (f *netFront) Quiet(timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		f.mu.Lock()
		n, ch := f.pending, f.changed
		f.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

const (
	connPending int32 = iota
	connHandshaken
	connClosed
)

func (f *netFront) settle(c *trackedConn, to int32) {
	if !c.state.CompareAndSwap(connPending, to) {
		return
	}
	f.mu.Lock()
	f.pending--
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// closeAll closes every connection the front holds, as a server or a
// client does after minutes of idleness.
func (f *netFront) closeAll() {
	f.mu.Lock()
	conns := make([]*trackedConn, 0, len(f.live))
	for c := range f.live {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Close stops the front.
func (f *netFront) Close() {
	f.srv.Close()
	f.backend.CloseIdleConnections()
}

type countingListener struct {
	net.Listener
	f *netFront
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.f.conns.Add(1)
	tc := &trackedConn{Conn: c, f: l.f}
	l.f.mu.Lock()
	l.f.pending++
	l.f.live[tc] = struct{}{}
	l.f.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	f     *netFront
	state atomic.Int32
}

func (c *trackedConn) Close() error {
	c.f.settle(c, connClosed)
	c.f.mu.Lock()
	delete(c.f.live, c)
	c.f.mu.Unlock()
	return c.Conn.Close()
}

// latencyProxy forwards loopback TCP connections to target, delaying the
// data of each direction by delay (half the round trip). Each direction
// reads into time-stamped chunks and writes each chunk when its time comes,
// so the delay adds latency without limiting throughput.
type latencyProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	changed chan struct{} // closed and replaced whenever conns shrinks
}

func newLatencyProxy(target string, delay time.Duration) (*latencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &latencyProxy{ln: ln, target: target, delay: delay, done: make(chan struct{}), conns: map[net.Conn]struct{}{}, changed: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's loopback address.
func (p *latencyProxy) Addr() string { return p.ln.Addr().String() }

func (p *latencyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *latencyProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false
	default:
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *latencyProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	for _, c := range cs {
		delete(p.conns, c)
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// waitEmpty waits until no connection passes through the proxy (both ends
// closed), or timeout.
func (p *latencyProxy) waitEmpty(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		p.mu.Lock()
		n, ch := len(p.conns), p.changed
		p.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		}
	}
}

func (p *latencyProxy) handle(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		client.Close()
		server.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(client, server) }()
	go func() { defer wg.Done(); p.pipe(server, client) }()
	wg.Wait()
	client.Close()
	server.Close()
	p.untrack(client, server)
}

type chunk struct {
	at  time.Time
	b   []byte
	eof bool
}

// pipe copies src to dst, each chunk delay after it was read; src's end
// (EOF or error) becomes dst's write side closed, delay later too.
func (p *latencyProxy) pipe(src, dst net.Conn) {
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case ch <- chunk{at: time.Now().Add(p.delay), b: buf[:n]}:
				case <-p.done:
					return
				}
			}
			if err != nil {
				select {
				case ch <- chunk{at: time.Now().Add(p.delay), eof: true}:
				case <-p.done:
				}
				return
			}
		}
	}()
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for c := range ch {
		if d := time.Until(c.at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-p.done:
				for range ch {
				}
				return
			}
		}
		if c.eof {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			} else {
				dst.Close()
			}
			continue
		}
		if _, err := dst.Write(c.b); err != nil {
			src.Close()
			dst.Close()
			for range ch {
			}
			return
		}
	}
}

// Close stops the proxy: the listener, every connection, every goroutine.
func (p *latencyProxy) Close() {
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return
	default:
	}
	close(p.done)
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// NetRegistry is one registry of the rig: the registrytest server with the
// nine runtime images, its TLS front and the latency proxy before it.
type NetRegistry struct {
	Variant NetVariant
	Host    string // the name clients use
	RTT     time.Duration
	// Clock is the registry's clock, shared with the registrykit clients so
	// that a test can expire tokens.
	Clock   *registrytest.Clock
	Repos   []string // repositories below the org, one per runtime
	Digests map[string]string

	srv   *registrytest.Server
	front *netFront
	proxy *latencyProxy
	certs *netCerts
}

// StartNetRegistry starts a registry of variant v whose round trip is rtt.
func StartNetRegistry(v NetVariant, rtt time.Duration) (*NetRegistry, error) {
	certs, err := netPKI()
	if err != nil {
		return nil, err
	}
	r := &NetRegistry{Variant: v, RTT: rtt, Clock: registrytest.NewClock(time.Now()), Digests: map[string]string{}, certs: certs}
	mode := registrytest.GHCR
	r.Host = netGHCRHost
	if v.Flavor == NetGitea {
		mode, r.Host = registrytest.Gitea, netGiteaHost
	}
	cfg := registrytest.Config{Mode: mode, Users: map[string]string{User: Password}, Now: r.Clock.Now}
	if v.Flavor == NetGHCRAll {
		all := true
		cfg.MultiScope = &all
	}
	r.srv = registrytest.NewServer(cfg)
	for _, rt := range registry.DefaultRuntimes() {
		repo := "workspace-template-" + rt
		img, err := random.Image(256, 1)
		if err != nil {
			r.srv.Close()
			return nil, err
		}
		d, err := r.srv.Push(netOrg+"/"+repo, registry.RuntimeTag, img)
		if err != nil {
			r.srv.Close()
			return nil, err
		}
		r.Repos = append(r.Repos, repo)
		r.Digests[repo] = d.String()
	}
	r.front = newNetFront(r.srv.Host(), v.HTTP2, certs)
	if r.proxy, err = newLatencyProxy(r.front.Addr(), rtt/2); err != nil {
		r.front.Close()
		r.srv.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the proxy, the front and the registry.
func (r *NetRegistry) Close() {
	r.proxy.Close()
	r.front.Close()
	r.srv.Close()
}

// Prefix is the image prefix clients open, "<host>/molecule-ai".
func (r *NetRegistry) Prefix() string { return r.Host + "/" + netOrg }

// Realm and Service are the registry's token service, for the hand-written
// clients.
func (r *NetRegistry) Realm() string {
	if r.Variant.Flavor == NetGitea {
		return "https://" + r.Host + "/v2/token"
	}
	return "https://" + r.Host + "/token"
}

// Service is the token service's name.
func (r *NetRegistry) Service() string {
	if r.Variant.Flavor == NetGitea {
		return "container_registry"
	}
	return r.Host
}

// Transport returns a fresh keep-alive transport (HTTP/2 when the server
// offers it) that trusts the rig's CA and reaches the registry's name, and
// nothing else, through the latency proxy. Dialing costs one round trip, as
// TCP's handshake does.
func (r *NetRegistry) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConnsPerHost = 64
	tr.TLSClientConfig = &tls.Config{RootCAs: r.certs.pool, MinVersion: tls.VersionTLS13}
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host != r.Host {
			return nil, fmt.Errorf("netbench: refusing to dial %s: only %s is reachable", addr, r.Host)
		}
		c, err := d.DialContext(ctx, "tcp", r.proxy.Addr())
		if err != nil {
			return nil, err
		}
		t := time.NewTimer(r.RTT) // SYN, SYN-ACK
		defer t.Stop()
		select {
		case <-t.C:
			return c, nil
		case <-ctx.Done():
			c.Close()
			return nil, ctx.Err()
		}
	}
	return tr
}

// DropConnections ends every connection, as minutes of idleness do (the
// client's IdleConnTimeout, or the server's): the front closes its ends,
// and DropConnections returns once the client has closed its ends too, so
// that its pool holds none of them.
func (r *NetRegistry) DropConnections() error {
	r.front.closeAll()
	if !r.proxy.waitEmpty(10*r.RTT + 5*time.Second) {
		return errors.New("netbench: connections still open after the server closed them")
	}
	return nil
}

// Reset zeroes the registry's and the front's counters.
func (r *NetRegistry) Reset() {
	r.srv.ResetCounts()
	r.front.Reset()
}

// Counts waits for handshakes in progress and returns what the registry
// and the front counted since Reset.
func (r *NetRegistry) Counts() NetCounts {
	r.front.Quiet(10*r.RTT + 2*time.Second)
	c := r.srv.Counts()
	return NetCounts{Token: c.Token, Head: c.Head, Get: c.Get, Ping: c.Ping, Other: c.Other,
		Conns: r.front.conns.Load(), Handshakes: r.front.handshakes.Load()}
}

// errNoDigest reports a check that resolved the wrong digest.
var errNoDigest = errors.New("netbench: wrong digest")
