package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
)

// startRedis starts a redis-server for t. Without one installed the test is
// skipped, unless REGISTRYKIT_REQUIRE_REDIS=1 (set by .ci/run, which
// installs it) makes that a failure.
func startRedis(t *testing.T) *RedisServer {
	t.Helper()
	r, err := StartRedis()
	if errors.Is(err, ErrNoRedis) && os.Getenv("REGISTRYKIT_REQUIRE_REDIS") != "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(r.Stop)
	return r
}

// tickClock is the system clock, except that a sleep as long as a tick
// lasts until its context ends: Run checks once, then listens and waits,
// while the one-second rule of event checks runs in real time.
type tickClock struct{}

func (tickClock) Now() time.Time { return time.Now() }
func (tickClock) Sleep(ctx context.Context, d time.Duration) error {
	if d < time.Minute {
		return (&registry.Options{}).Now().Sleep(ctx, d) // the system clock's
	}
	<-ctx.Done()
	return ctx.Err()
}

// fleetHost is one host of the fleet: its watcher (with its own backend,
// Redis client and fleet), and the changes its handler acted on.
type fleetHost struct {
	w       *watch.Watcher
	acted   atomic.Int32
	actedOn chan string
}

// fleetRig is a registry with the nine runtime images and n hosts watching
// them through one redis-server.
type fleetRig struct {
	srv   *registrytest.Server
	redis *RedisServer
	admin *redis.Client
	hosts []*fleetHost
}

func newFleetRig(t *testing.T, n int) *fleetRig {
	t.Helper()
	r := &fleetRig{redis: startRedis(t)}
	r.srv = registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{user: password}})
	t.Cleanup(r.srv.Close)
	for _, rt := range registry.DefaultRuntimes() {
		r.push(t, rt)
	}
	r.admin = redis.NewClient(&redis.Options{Addr: r.redis.Addr})
	t.Cleanup(func() { r.admin.Close() })
	for range n {
		h := &fleetHost{actedOn: make(chan string, 64)}
		b, err := backends.Open(r.srv.Host()+"/org", &registry.Options{Flavor: registry.FlavorDistribution, Env: registry.EnvMap(nil),
			Credentials: authn.Static(authn.Credential{Username: user, Password: password})})
		require.NoError(t, err)
		f, err := redisfleet.Open("redis://" + r.redis.Addr)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		h.w, err = watch.New(b, &watch.Options{Fleet: f, Clock: tickClock{}, Jitter: -1,
			Handler: func(_ context.Context, img watch.Image, _, _ string) error {
				h.acted.Add(1)
				h.actedOn <- img.Runtime
				return nil
			}})
		require.NoError(t, err)
		r.hosts = append(r.hosts, h)
	}
	return r
}

// push pushes a new build of runtime's image.
func (r *fleetRig) push(t *testing.T, runtime string) {
	t.Helper()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	_, err = r.srv.Push("org/workspace-template-"+runtime, "latest", img)
	require.NoError(t, err)
}

// tick runs one tick on every host at once, as hosts whose ticks fall
// together do, after the shared digests of the last tick have lapsed
// (FLUSHDB stands for the lapse, so that no test waits for it), and
// returns the registry's counts for it.
func (r *fleetRig) tick(t *testing.T) registrytest.Counts {
	t.Helper()
	require.NoError(t, r.admin.FlushDB(context.Background()).Err())
	r.srv.ResetCounts()
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.w.Check(context.Background()) }()
	}
	wg.Wait()
	return r.srv.Counts()
}

// Ten hosts watching nine images ask the registry about once per image per
// tick over twenty ticks, not ten times; each change is confirmed by every
// host with one request of its own and acted on once per host.
func TestFleetOfTenAsksOncePerImagePerTick(t *testing.T) {
	r := newFleetRig(t, 10)
	images := int64(len(registry.DefaultRuntimes()))
	c := r.tick(t)
	assert.Equal(t, 10*images, c.Head, "first sight: every host seeds from its own requests")
	var heads, tokens int64
	for i := range 20 {
		if i == 10 {
			r.push(t, "codex")
		}
		c := r.tick(t)
		heads, tokens = heads+c.Head, tokens+c.Token
		if i == 10 {
			assert.Equal(t, images+9, c.Head, "one HEAD per image, and each other host's confirmation of the change")
		} else {
			assert.Equal(t, images, c.Head, "one HEAD per image for the fleet")
		}
	}
	t.Logf("20 ticks, 10 hosts, 9 images: %d HEADs, %d token requests", heads, tokens)
	assert.LessOrEqual(t, tokens, 20*images/2, "token requests stay well under one per image per tick")
	for i, h := range r.hosts {
		assert.EqualValues(t, 1, h.acted.Load(), "host %d acts once on the change", i)
	}
}

// A push notification delivered to one host reaches all ten: each checks
// the image with its own request and runs its handler, within 2 s.
func TestFleetPushReachesEveryHostWithinTwoSeconds(t *testing.T) {
	r := newFleetRig(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.w.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	require.Eventually(t, func() bool {
		subs := r.admin.PubSubNumSub(ctx, "registrykit:watch:events").Val()["registrykit:watch:events"]
		if subs != int64(len(r.hosts)) {
			return false
		}
		for _, h := range r.hosts {
			if len(h.w.Seen()) < len(registry.DefaultRuntimes()) {
				return false
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond, "every host seeded and listening")

	const secret = "Bearer fleet-e2e"
	front := httptest.NewServer(watch.NewReceiver(r.hosts[0].w, watch.Distribution(secret)))
	defer front.Close()
	r.push(t, "hermes")
	start := time.Now()
	// A distribution notification (docs/content/about/notifications.md in
	// distribution/distribution): an envelope of events, action "push".
	body := `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"org/workspace-template-hermes","tag":"latest"}}]}`
	req, err := http.NewRequest(http.MethodPost, front.URL, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", secret)
	req.Header.Set("Content-Type", "application/vnd.docker.distribution.events.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	deadline := time.After(2 * time.Second)
	for i, h := range r.hosts {
		select {
		case rt := <-h.actedOn:
			assert.Equal(t, "hermes", rt)
		case <-deadline:
			t.Fatalf("host %d had not acted 2 s after the push reached host 0", i)
		}
	}
	t.Logf("ten hosts acted %s after the delivery to one", time.Since(start).Round(time.Millisecond))
}

// Redis killed mid-run loses no change: every host polls on its own and
// acts on the change; when Redis is back the fleet shares its checks
// again.
func TestFleetSurvivesRedisKilledAndRestarted(t *testing.T) {
	r := newFleetRig(t, 10)
	images := int64(len(registry.DefaultRuntimes()))
	r.tick(t)
	r.tick(t)

	r.redis.Stop()
	r.push(t, "crewai")
	var wg sync.WaitGroup
	r.srv.ResetCounts()
	for _, h := range r.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.w.Check(context.Background()) }()
	}
	wg.Wait()
	assert.Equal(t, 10*images, r.srv.Counts().Head, "each host checks every image itself")
	for i, h := range r.hosts {
		assert.EqualValues(t, 1, h.acted.Load(), "host %d acted on the change made while Redis was down", i)
	}

	require.NoError(t, r.redis.Start())
	require.Eventually(t, func() bool {
		c := r.tick(t)
		return c.Head == images
	}, 30*time.Second, 100*time.Millisecond, "the fleet shares its checks again once its clients redial")
	assert.Equal(t, images, r.tick(t).Head)
}
