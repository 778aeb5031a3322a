package redisfleet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const key = "ghcr.io/molecule-ai/workspace-template-codex:latest"

// fleets returns n fleets on one miniredis server.
func fleets(t *testing.T, n int) (*miniredis.Miniredis, []*redisfleet.Fleet) {
	t.Helper()
	s := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { client.Close() })
	var out []*redisfleet.Fleet
	for range n {
		out = append(out, redisfleet.New(client))
	}
	return s, out
}

// One watcher claims a key's check; the others, while it holds the claim,
// neither claim nor see a digest, and take the one it shares; once that
// digest is no longer fresh and the claim has lapsed, the next asker claims.
func TestClaimShareAwait(t *testing.T) {
	s, f := fleets(t, 2)
	ctx := context.Background()
	d, claimed, err := f[0].Claim(ctx, key, 30*time.Second)
	require.NoError(t, err)
	assert.True(t, claimed)
	assert.Empty(t, d)

	d, claimed, err = f[1].Claim(ctx, key, 30*time.Second)
	require.NoError(t, err)
	assert.False(t, claimed, "the claim is held")
	assert.Empty(t, d)

	got := make(chan string, 1)
	go func() {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		d, _ := f[1].Await(actx, key)
		got <- d
	}()
	require.NoError(t, f[0].Share(ctx, key, "sha256:aaa", 4*time.Minute))
	assert.Equal(t, "sha256:aaa", <-got)

	d, claimed, err = f[1].Claim(ctx, key, 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "sha256:aaa", d, "fresh: taken instead of a check")
	assert.False(t, claimed)

	s.FastForward(5 * time.Minute)
	d, claimed, err = f[1].Claim(ctx, key, 30*time.Second)
	require.NoError(t, err)
	assert.Empty(t, d)
	assert.True(t, claimed, "stale and unclaimed: this one checks")
	assert.EqualValues(t, 2+1+1, f[0].Commands(), "GET and SET NX, then SET and PUBLISH in one round trip")
}

// Await gives up with ctx and reports no digest.
func TestAwaitEndsWithItsContext(t *testing.T) {
	_, f := fleets(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := f[0].Await(ctx, key)
	require.NoError(t, err)
	assert.Empty(t, d)
}

type heard struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func (h *heard) notify(key, digest string) {
	h.mu.Lock()
	h.got = append(h.got, key+" "+digest)
	h.mu.Unlock()
	h.ch <- struct{}{}
}

// Listen passes on the other watchers' shared digests and pushes, not the
// listener's own, and returns when its context ends.
func TestListenHearsTheOthersOnly(t *testing.T) {
	s, f := fleets(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	h := &heard{ch: make(chan struct{}, 8)}
	done := make(chan error, 1)
	go func() { done <- f[0].Listen(ctx, h.notify) }()
	require.Eventually(t, func() bool {
		return len(s.PubSubNumSub("registrykit:watch:events")) == 1 && s.PubSubNumSub("registrykit:watch:events")["registrykit:watch:events"] == 1
	},
		10*time.Second, time.Millisecond, "the subscription")

	bg := context.Background()
	require.NoError(t, f[0].Announce(bg, key)) // its own: not heard
	require.NoError(t, f[1].Announce(bg, key))
	require.NoError(t, f[1].Share(bg, key, "sha256:bbb", time.Minute))
	for range 2 {
		select {
		case <-h.ch:
		case <-time.After(10 * time.Second):
			t.Fatal("a message was not heard")
		}
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, []string{key + " ", key + " sha256:bbb"}, h.got)
}

// Open reads redis:// and rediss:// URLs; an error names the URL with its
// password hidden, and never repeats the password.
func TestOpen(t *testing.T) {
	s := miniredis.RunT(t)
	f, err := redisfleet.Open("redis://:s3cret-pw@" + s.Addr() + "/0")
	require.NoError(t, err)
	s.RequireAuth("s3cret-pw")
	_, claimed, err := f.Claim(context.Background(), key, time.Minute)
	require.NoError(t, err, "the password from the URL is used")
	assert.True(t, claimed)
	require.NoError(t, f.Close())

	for _, bad := range []string{
		"redis://:s3cret-pw@" + s.Addr() + "/notadb",
		"http://:s3cret-pw@" + s.Addr(),
		"redis://:s3cret-pw@host:port:x/0",
		"redis://u:s3cret-pw@[::1/0",
	} {
		_, err := redisfleet.Open(bad)
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "s3cret-pw", bad)
		assert.Contains(t, err.Error(), "redis://", "the error says what to write")
	}
}

// With Redis gone every operation fails, promptly, with an error the
// watcher falls back on; none waits for the network.
func TestUnreachableRedisFails(t *testing.T) {
	s := miniredis.RunT(t)
	f, err := redisfleet.Open("redis://" + s.Addr())
	require.NoError(t, err)
	defer f.Close()
	s.Close()
	ctx := context.Background()
	_, _, err = f.Claim(ctx, key, time.Minute)
	assert.Error(t, err)
	assert.Error(t, f.Share(ctx, key, "sha256:ccc", time.Minute))
	assert.Error(t, f.Announce(ctx, key))
}

// rediss:// speaks TLS: against a server whose certificate no system root
// signed, the handshake is what fails.
func TestOpenRedissSpeaksTLS(t *testing.T) {
	s, err := miniredis.RunTLS(&tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	require.NoError(t, err)
	defer s.Close()
	f, err := redisfleet.Open("rediss://:pw@" + s.Addr() + "/0")
	require.NoError(t, err)
	defer f.Close()
	_, _, err = f.Claim(context.Background(), key, time.Minute)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown, "the TLS handshake ran: %v", err)
}

// selfSigned returns a certificate for 127.0.0.1 that signs itself.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
