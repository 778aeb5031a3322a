package engine

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// predialTTL is how long a connection dialed ahead waits for its request
// before it is closed.
const predialTTL = 10 * time.Second

// predialer dials ahead, on a registry known to answer over HTTP/1.1, the
// TCP connections a tick's checks will need while the tick's one token
// request is in flight: the checks then find their connections open instead
// of dialing after the token arrives, which saves the TCP handshake's round
// trip. HTTP/2 needs one connection for the tick, so nothing is dialed ahead
// for it. It works through http.Transport's public DialContext hook: the
// TLS handshake, HTTP/2 and the connection pool stay net/http's.
//
// It counts the connections it dialed that are still open (the transport
// closes them when they idle out), so that it dials only what the pool
// lacks. A connection dialed ahead that no request takes within predialTTL
// is closed.
type predialer struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	proxy func(*http.Request) (*url.URL, error)
	ttl   time.Duration

	mu     sync.Mutex
	open   map[string]int        // connections open, by address
	parked map[string][]net.Conn // dialed ahead, not yet taken
	h1     map[string]bool       // addresses that answered over HTTP/1.x
}

func newPredialer(t *http.Transport) *predialer {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return &predialer{dial: dial, proxy: t.Proxy, ttl: predialTTL,
		open: map[string]int{}, parked: map[string][]net.Conn{}, h1: map[string]bool{}}
}

// DialContext is the transport's DialContext: a connection dialed ahead for
// addr if one waits, else a new one.
func (p *predialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	if list := p.parked[addr]; len(list) > 0 {
		c := list[len(list)-1]
		p.parked[addr] = list[:len(list)-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return p.dialCounted(ctx, network, addr)
}

func (p *predialer) dialCounted(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := p.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.open[addr]++
	p.mu.Unlock()
	return &countedConn{Conn: c, closed: func() { p.closed(addr) }}, nil
}

func (p *predialer) closed(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[addr]--; p.open[addr] <= 0 {
		delete(p.open, addr)
	}
}

// learn records the protocol a response to u came over.
func (p *predialer) learn(u *url.URL, protoMajor int) {
	addr := dialAddr(u)
	p.mu.Lock()
	defer p.mu.Unlock()
	if protoMajor == 1 {
		p.h1[addr] = true
	} else {
		delete(p.h1, addr)
	}
}

// warm dials, in the background, the connections that n requests to u will
// need beyond those open, less one when the request about to be sent (the
// token request) goes to the same address and will hand its connection
// over. It does nothing unless u's address answered over HTTP/1.x before,
// or when a proxy carries the requests.
func (p *predialer) warm(u *url.URL, n int, sameAddr bool) {
	if p.proxy != nil {
		if pu, err := p.proxy(&http.Request{URL: u}); err != nil || pu != nil {
			return
		}
	}
	addr := dialAddr(u)
	p.mu.Lock()
	have := p.open[addr]
	if sameAddr && have == 0 {
		have = 1 // the token request dials it
	}
	need := n - have
	if !p.h1[addr] || need <= 0 {
		p.mu.Unlock()
		return
	}
	p.open[addr] += need // counted now, so that a second warm does not dial them again
	p.mu.Unlock()
	for range need {
		go p.dialAhead(addr)
	}
}

// dialAhead dials one connection for addr and parks it for the next dial,
// closing it if no request takes it within the TTL.
func (p *predialer) dialAhead(addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), p.ttl)
	defer cancel()
	c, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		p.closed(addr)
		return
	}
	cc := &countedConn{Conn: c, closed: func() { p.closed(addr) }}
	p.mu.Lock()
	p.parked[addr] = append(p.parked[addr], cc)
	p.mu.Unlock()
	time.AfterFunc(p.ttl, func() {
		p.mu.Lock()
		list := p.parked[addr]
		for i, x := range list {
			if x == cc {
				p.parked[addr] = append(list[:i], list[i+1:]...)
				p.mu.Unlock()
				cc.Close()
				return
			}
		}
		p.mu.Unlock()
	})
}

// dialAddr is the address the transport dials for u: host:port, with the
// scheme's default port.
func dialAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// countedConn reports its first Close.
type countedConn struct {
	net.Conn
	once   sync.Once
	closed func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}

// learnTransport tells the predialer the protocol of every response.
type learnTransport struct {
	inner http.RoundTripper
	p     *predialer
}

func (t *learnTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err == nil {
		t.p.learn(req.URL, resp.ProtoMajor)
	}
	return resp, err
}
