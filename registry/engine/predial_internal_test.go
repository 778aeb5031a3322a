package engine

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeDialer dials in-memory connections and reports dials and closes.
type pipeDialer struct {
	dials  chan string
	closes chan struct{}
}

func (d *pipeDialer) dial(_ context.Context, _, addr string) (net.Conn, error) {
	c, peer := net.Pipe()
	go func() { _, _ = peer.Read(make([]byte, 1)); peer.Close(); d.closes <- struct{}{} }()
	d.dials <- addr
	return c, nil
}

func newPipePredialer(t *testing.T, ttl time.Duration) (*predialer, *pipeDialer) {
	d := &pipeDialer{dials: make(chan string, 16), closes: make(chan struct{}, 16)}
	p := newPredialer(&http.Transport{DialContext: d.dial})
	p.ttl = ttl
	t.Cleanup(func() { // close what is still parked, and wait for every peer
		p.mu.Lock()
		var parked []net.Conn
		for _, list := range p.parked {
			parked = append(parked, list...)
		}
		p.mu.Unlock()
		for _, c := range parked {
			c.Close()
		}
		for p.openCount() > 0 {
			wait(t, d.closes, "a connection to close")
		}
	})
	return p, d
}

func (p *predialer) openCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.open {
		n += c
	}
	return n
}

func wait[T any](t *testing.T, c chan T, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for " + what)
	}
}

func TestPredialerDialsAheadOnlyForHTTP1(t *testing.T) {
	u := &url.URL{Scheme: "https", Host: "reg.example"}
	t.Run("HTTP/1.1: the missing connections, parked for the next dials", func(t *testing.T) {
		p, d := newPipePredialer(t, time.Hour)
		p.learn(u, 1)
		p.warm(u, 4, true) // the token request dials the fourth
		for range 3 {
			wait(t, d.dials, "a dial ahead")
		}
		for range 3 {
			c, err := p.DialContext(context.Background(), "tcp", "reg.example:443")
			require.NoError(t, err)
			defer c.Close()
		}
		assert.Empty(t, d.dials, "the parked connections served the dials")
		p.warm(u, 3, true)
		assert.Empty(t, d.dials, "three open for three requests: nothing to dial")
		c, err := p.DialContext(context.Background(), "tcp", "reg.example:443")
		require.NoError(t, err)
		c.Close()
		wait(t, d.dials, "a dial of its own once none is parked")
	})
	t.Run("HTTP/2 or unknown: nothing", func(t *testing.T) {
		p, d := newPipePredialer(t, time.Hour)
		p.warm(u, 9, false)
		p.learn(u, 2)
		p.warm(u, 9, false)
		assert.Empty(t, d.dials)
	})
	t.Run("through a proxy: nothing", func(t *testing.T) {
		p, d := newPipePredialer(t, time.Hour)
		p.proxy = func(*http.Request) (*url.URL, error) { return &url.URL{Host: "proxy:3128"}, nil }
		p.learn(u, 1)
		p.warm(u, 9, false)
		assert.Empty(t, d.dials)
	})
	t.Run("a closed connection is no longer counted", func(t *testing.T) {
		p, d := newPipePredialer(t, time.Hour)
		p.learn(u, 1)
		c, err := p.DialContext(context.Background(), "tcp", "reg.example:443")
		require.NoError(t, err)
		wait(t, d.dials, "the dial")
		p.warm(u, 1, false)
		assert.Empty(t, d.dials, "one open for one request")
		require.NoError(t, c.Close())
		p.warm(u, 1, false)
		wait(t, d.dials, "a dial ahead once the connection closed")
	})
	t.Run("a parked connection no request takes is closed", func(t *testing.T) {
		p, d := newPipePredialer(t, time.Millisecond)
		p.learn(u, 1)
		p.warm(u, 1, false)
		wait(t, d.dials, "the dial ahead")
		wait(t, d.closes, "the close at the end of the TTL")
		p.warm(u, 1, false)
		wait(t, d.dials, "nothing counted open any more")
	})
}
