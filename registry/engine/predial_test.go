package engine_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// dialCounter counts the TCP connections a backend's own transport dials
// and reports each one on a channel.
type dialCounter struct {
	dials  atomic.Int32
	dialed chan struct{}
}

func (d *dialCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		d.dials.Add(1)
		d.dialed <- struct{}{}
	}
	return c, err
}

// On an HTTP/1.1 registry, a tick's connections are dialed while its one
// token request is in flight: the token service answers only once they are
// open, which it would wait for in vain if the checks dialed after the
// token arrived. The tick dials exactly the connections its checks lack (the
// probe's is open already), no more, and sends 1 token request and 9 HEADs.
func TestTickDialsItsConnectionsWhileTheTokenRequestIsInFlight(t *testing.T) {
	repos := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	clock := registrytest.NewClock(time.Now())
	dc := &dialCounter{dialed: make(chan struct{}, 64)}
	var holdToken atomic.Bool
	var seen sync.Map // a token request saw all connections open
	srv := registrytest.NewServer(registrytest.Config{
		Mode: registrytest.Distribution, Users: map[string]string{"u": "pw-0123456789"}, Now: clock.Now,
		Intercept: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/auth/token" && holdToken.Load() { // the Distribution mode's realm
				deadline := time.After(10 * time.Second)
				for n := dc.dials.Load(); n < int32(len(repos)); n = dc.dials.Load() {
					select {
					case <-dc.dialed:
					case <-deadline:
						return false
					}
				}
				seen.Store("all open", true)
			}
			return false
		},
	})
	t.Cleanup(srv.Close)
	for _, repo := range repos {
		img, err := random.Image(16, 1)
		require.NoError(t, err)
		_, err = srv.Push("org/"+repo, "latest", img)
		require.NoError(t, err)
	}
	b, err := engine.Open(registry.MustParsePrefix(srv.Host()+"/org"), []engine.Spec{distribution.Driver()}, &registry.Options{
		Flavor: registry.FlavorDistribution, Clock: clock, Env: registry.EnvMap(nil), ConfigureTransport: func(t *http.Transport) { t.DialContext = dc.DialContext },
		Credentials: authn.Static(authn.Credential{Username: "u", Password: "pw-0123456789"}),
	})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = b.Discover(ctx) // the probe: the registry answers over HTTP/1.1
	require.NoError(t, err)
	require.EqualValues(t, 1, dc.dials.Load(), "the probe's connection, idle in the pool")
	srv.ResetCounts()

	holdToken.Store(true)
	require.NoError(t, b.PrepareTokens(ctx, repos))
	_, ok := seen.Load("all open")
	require.True(t, ok, "the token request was answered before the checks' connections were open")
	var wg sync.WaitGroup
	for _, repo := range repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.ManifestDigest(ctx, repo, "latest")
			assert.NoError(t, err, repo)
		}()
	}
	wg.Wait()
	c := srv.Counts()
	assert.EqualValues(t, 1, c.Token)
	assert.EqualValues(t, len(repos), c.Head)
	assert.EqualValues(t, len(repos), dc.dials.Load(), "one connection per check: the probe's, reused, and eight dialed ahead")
}
