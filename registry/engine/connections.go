package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NewTransport returns the base transport of registrykit's clients:
// keep-alive with a pool sized for concurrent digest checks, HTTP/2 with one
// connection per host (see [Transport]), and timeouts for the TLS handshake
// and the response headers. Share one between backends of the same
// registry so that they share connections.
func NewTransport() *Transport { return NewTransportFrom(NewHTTPTransport()) }

// NewHTTPTransport returns the tuned *http.Transport under [NewTransport].
func NewHTTPTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

// Transport routes each request by what its host speaks. Go's transport
// dials one connection per waiting request when it has none idle, so a tick
// of nine checks after an idle gap would open nine TCP connections and nine
// TLS handshakes to a registry that could carry them all on one HTTP/2
// connection. Forcing one connection per host would fix that and serialise
// an HTTP/1.1-only registry, so a Transport decides per host:
//
//   - An HTTPS host not known to speak only HTTP/1.1 goes through a transport
//     that opens at most one connection to it at a time; concurrent requests
//     wait for that one dial and are multiplexed on it.
//   - When the TLS handshake of that dial negotiates HTTP/1.1 (ALPN), the
//     host is remembered as HTTP/1.1-only and the connection is handed, still
//     unused, to a transport with parallel connections, where the request and
//     every later one to that host go. Learning the protocol costs no
//     connection and no round trip.
//   - Plain-HTTP hosts use parallel connections from the start.
//
// The hand-over needs the Transport to dial TLS itself. It does so as
// net/http would: with the base's DialContext, TLSClientConfig and
// TLSHandshakeTimeout, offering the ALPN protocols net/http's own setup of
// the base offers; an HTTPS proxy is dialed plainly. When it cannot (the
// base has its own TLS dialer, or does not speak HTTP/2 — Protocols,
// GODEBUG=http2client=0), or a request goes through a proxy, the first
// request to a host learns its protocol from the connection it gets: the
// others wait for that connection, then share it (HTTP/2) or open their own
// (HTTP/1.1). That first HTTP/1.1 connection is not handed over, so an
// HTTP/1.1-only host then pays one extra connection, once.
//
// TLS sessions are resumed (one client session cache for all the
// Transport's connections), so the connections a tick opens after an idle
// gap skip the certificate exchange — unless the base's TLSClientConfig has
// a cache of its own, disables session tickets, or checks certificates in
// VerifyPeerCertificate, which does not run on resumed sessions (or the
// base has no TLSClientConfig and leaves HTTP/2 to net/http's defaults,
// which a configuration would turn off).
//
// A Transport is safe for concurrent use.
type Transport struct {
	parallel *http.Transport // parallel connections: HTTP/1.1-only and plain-HTTP hosts
	single   *http.Transport // one new connection per host at a time: the others

	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig *tls.Config // nil when the Transport does not dial TLS itself
	handshake time.Duration
	spareLife time.Duration

	hosts sync.Map // "host:port" of each HTTPS request -> *hostInfo

	mu     sync.Mutex
	spares map[string]*spare // "host:port" -> a connection the single transport declined
}

// What a host speaks, as far as a Transport knows.
const (
	protoUnknown uint32 = iota
	protoHTTP1
	protoHTTP2
)

// hostInfo is what a Transport knows of one HTTPS host.
type hostInfo struct {
	proto atomic.Uint32 // protoUnknown, protoHTTP1 or protoHTTP2

	mu       sync.Mutex
	learning chan struct{} // closed when a learning request has its connection, or ends
	waiting  atomic.Int32  // requests waiting on learning
}

// learn returns the channel that closes when the host's protocol is known,
// and whether the caller is the one to learn it (its request then carries
// the trace that calls connected, and it calls learned when done).
func (h *hostInfo) learn() (<-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.learning != nil {
		return h.learning, false
	}
	h.learning = make(chan struct{})
	return h.learning, true
}

// http1 reports whether the host is known to speak only HTTP/1.1.
func (h *hostInfo) http1() bool { return h.proto.Load() == protoHTTP1 }

// connected records the protocol of the learning request's connection.
func (h *hostInfo) connected(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
		h.proto.Store(protoHTTP2)
	} else {
		h.proto.Store(protoHTTP1)
	}
	h.learned()
}

// learned releases the requests waiting on the learning one. If it ended
// before it had a connection, one of them learns next.
func (h *hostInfo) learned() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.learning != nil {
		close(h.learning)
		h.learning = nil
	}
}

// A spare is a fresh TLS connection to an HTTP/1.1-only host, waiting for
// the parallel transport's next dial to that host.
type spare struct {
	conn  net.Conn
	timer *time.Timer // closes the connection if no dial takes it
}

// spareLife bounds how long a declined connection waits: the request it was
// dialed for is sent again at once, so a spare still parked after this is
// one nobody came for (and a server may soon close a connection that sent
// nothing).
const spareLife = time.Second

// errHTTP1 is how the single-connection transport's dialer declines a host
// that negotiated HTTP/1.1. Nothing was sent; the request goes again through
// the parallel transport.
var errHTTP1 = errors.New("engine: host speaks HTTP/1.1; request moved to parallel connections")

// NewTransportFrom returns a Transport over copies of base.
func NewTransportFrom(base *http.Transport) *Transport {
	t := &Transport{parallel: base.Clone(), single: base.Clone(), spares: map[string]*spare{}, spareLife: spareLife}
	t.single.MaxConnsPerHost = 1
	if offer, ok := http2Offer(base); ok {
		t.dial = base.DialContext
		if t.dial == nil {
			t.dial = (&net.Dialer{}).DialContext // net/http's when none is set
		}
		t.tlsConfig = base.TLSClientConfig.Clone()
		if t.tlsConfig == nil {
			t.tlsConfig = &tls.Config{}
		}
		t.tlsConfig.NextProtos = offer
		t.handshake = base.TLSHandshakeTimeout
		for _, tr := range []*http.Transport{t.single, t.parallel} {
			tr.ForceAttemptHTTP2 = true // as base, which speaks HTTP/2; a TLS dialer alone would turn it off
		}
		t.single.DialTLSContext = t.dialSingle
		t.parallel.DialTLSContext = t.dialParallel
	}
	t.resumeSessions()
	return t
}

// resumeSessions gives every TLS configuration of the Transport (its own
// dialer's, and the ones net/http uses through a proxy) one client session
// cache, except a configuration that has a cache, disables session tickets,
// or checks certificates in VerifyPeerCertificate (which does not run on a
// resumed session).
func (t *Transport) resumeSessions() {
	cache := tls.NewLRUClientSessionCache(0)
	add := func(cfg *tls.Config) {
		if cfg.ClientSessionCache == nil && !cfg.SessionTicketsDisabled && cfg.VerifyPeerCertificate == nil {
			cfg.ClientSessionCache = cache
		}
	}
	if t.tlsConfig != nil {
		add(t.tlsConfig)
	}
	for _, tr := range []*http.Transport{t.single, t.parallel} {
		switch {
		case tr.TLSClientConfig != nil: // the clone's own copy
			add(tr.TLSClientConfig)
		case tr.ForceAttemptHTTP2: // else a TLSClientConfig would turn HTTP/2 off
			tr.TLSClientConfig = &tls.Config{}
			add(tr.TLSClientConfig)
		}
	}
}

// http2Offer reports whether a Transport over base can dial TLS itself, and
// the ALPN protocols to offer: base speaks HTTP/2 over TLS as net/http sets
// it up (ForceAttemptHTTP2 or the defaults, Protocols, an empty
// TLSNextProto, GODEBUG=http2client=0 and the nethttpomithttp2 build tag
// all count) and dials with DialContext alone. The answer comes from a copy
// of base on which net/http has done its setup.
func http2Offer(base *http.Transport) ([]string, bool) {
	//lint:ignore SA1019 a deprecated dialer, when set, is honoured by leaving the dialing to net/http
	legacy := base.Dial != nil || base.DialTLS != nil
	if legacy || base.DialTLSContext != nil {
		return nil, false
	}
	probe := base.Clone()
	probe.CloseIdleConnections() // runs net/http's HTTP/2 setup; there are no connections
	if probe.TLSNextProto["h2"] == nil || probe.TLSClientConfig == nil || !slices.Contains(probe.TLSClientConfig.NextProtos, "h2") {
		return nil, false
	}
	return slices.Clone(probe.TLSClientConfig.NextProtos), true
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return t.parallel.RoundTrip(req)
	}
	addr := hostPort(req.URL)
	host := t.host(addr)
	if host.http1() || !rewindable(req) {
		return t.parallel.RoundTrip(req)
	}
	orig := req
	for host.proto.Load() == protoUnknown && t.learnsFromConnection(req) {
		learning, learner := host.learn()
		if learner {
			defer host.learned()
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) { host.connected(info.Conn) },
			}))
			break
		}
		host.waiting.Add(1)
		select {
		case <-learning: // learned, or the learner ended first: look again
			host.waiting.Add(-1)
		case <-req.Context().Done():
			host.waiting.Add(-1)
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, req.Context().Err()
		}
	}
	if host.http1() {
		return t.parallel.RoundTrip(req)
	}
	resp, err := t.single.RoundTrip(req)
	switch {
	case errors.Is(err, errHTTP1):
		defer t.discard(addr) // a spare no dial took: it would only go stale
		again, rerr := rewound(req)
		if rerr != nil {
			return nil, rerr
		}
		resp, err := t.parallel.RoundTrip(again)
		if err == nil {
			resp.Request = orig
		}
		return resp, err
	case err == nil && resp.ProtoMajor < 2:
		// A connection that no trace reported, such as one opened before
		// the host was recorded: the answer tells.
		host.proto.Store(protoHTTP1)
	}
	if err == nil {
		resp.Request = orig
	}
	return resp, err
}

// learnsFromConnection reports whether req's host's protocol is learned
// from the connection a request gets rather than from the Transport's own
// TLS handshake: the Transport does not dial TLS itself, or req goes
// through a proxy.
func (t *Transport) learnsFromConnection(req *http.Request) bool {
	if t.tlsConfig == nil {
		return true
	}
	if t.single.Proxy == nil {
		return false
	}
	u, err := t.single.Proxy(req)
	return err == nil && u != nil
}

// host returns what is known of addr, recording it as a host the Transport
// routes requests to.
func (t *Transport) host(addr string) *hostInfo {
	if h, ok := t.hosts.Load(addr); ok {
		return h.(*hostInfo)
	}
	h, _ := t.hosts.LoadOrStore(addr, &hostInfo{})
	return h.(*hostInfo)
}

// dialSingle is the single-connection transport's TLS dialer: a host that
// negotiates HTTP/1.1 is declined, and its connection kept for the parallel
// transport. An address no request named is an HTTPS proxy's, dialed as
// net/http would.
func (t *Transport) dialSingle(ctx context.Context, network, addr string) (net.Conn, error) {
	h, ok := t.hosts.Load(addr)
	if !ok {
		return t.dialTLS(ctx, network, addr)
	}
	host := h.(*hostInfo)
	if host.http1() {
		return nil, errHTTP1
	}
	conn, err := t.dialTLS(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if conn.ConnectionState().NegotiatedProtocol == "h2" {
		host.proto.Store(protoHTTP2)
		return conn, nil
	}
	host.proto.Store(protoHTTP1)
	t.park(addr, conn)
	return nil, errHTTP1
}

// dialParallel is the parallel transport's TLS dialer: it takes the
// connection the single transport declined, if one is waiting.
func (t *Transport) dialParallel(ctx context.Context, network, addr string) (net.Conn, error) {
	if conn := t.take(addr); conn != nil {
		return conn, nil
	}
	return t.dialTLS(ctx, network, addr)
}

// dialTLS dials addr and completes the TLS handshake, as net/http does for
// a transport without a TLS dialer.
func (t *Transport) dialTLS(ctx context.Context, network, addr string) (*tls.Conn, error) {
	raw, err := t.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := t.tlsConfig.Clone()
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	hctx := ctx
	if t.handshake > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, t.handshake)
		defer cancel()
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(hctx); err != nil {
		raw.Close()
		if hctx.Err() != nil && ctx.Err() == nil {
			return nil, handshakeTimeout{}
		}
		return nil, err
	}
	return conn, nil
}

// handshakeTimeout is the error of a TLS handshake that outlasted
// TLSHandshakeTimeout: a net.Error whose Timeout is true, as net/http's.
type handshakeTimeout struct{}

func (handshakeTimeout) Error() string   { return "net/http: TLS handshake timeout" }
func (handshakeTimeout) Timeout() bool   { return true }
func (handshakeTimeout) Temporary() bool { return true }

// park keeps conn for the parallel transport's next dial to addr, closing it
// if none comes within spareLife, or at once if a connection is parked for
// addr already.
func (t *Transport) park(addr string, conn net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.spares[addr]; ok {
		conn.Close()
		return
	}
	s := &spare{conn: conn}
	s.timer = time.AfterFunc(t.spareLife, func() {
		t.mu.Lock()
		mine := t.spares[addr] == s
		if mine {
			delete(t.spares, addr)
		}
		t.mu.Unlock()
		if mine {
			conn.Close()
		}
	})
	t.spares[addr] = s
}

// take returns the connection parked for addr, or nil.
func (t *Transport) take(addr string) net.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.spares[addr]
	if !ok {
		return nil
	}
	delete(t.spares, addr)
	s.timer.Stop()
	return s.conn
}

// discard closes the connection parked for addr, if any.
func (t *Transport) discard(addr string) {
	if conn := t.take(addr); conn != nil {
		conn.Close()
	}
}

// CloseIdleConnections closes every idle connection.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	spares := t.spares
	t.spares = map[string]*spare{}
	t.mu.Unlock()
	for _, s := range spares {
		s.timer.Stop()
		s.conn.Close()
	}
	t.parallel.CloseIdleConnections()
	t.single.CloseIdleConnections()
}

// hostPort is an HTTPS URL's host with its port, as net/http dials it (for
// an ASCII host; net/http dials an IDN host by its punycode name, which
// then counts as a proxy's address here and learns from the connection).
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// rewindable reports whether req can be sent a second time: it has no body,
// or says how to get it again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewound returns req ready to be sent again (see [rewindable]).
func rewound(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	again := req.Clone(req.Context())
	again.Body = body
	return again, nil
}
