package redisfleet_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
)

// host is one host of a fleet: its watcher, the fake registry it asks (one
// per host, so that each host's requests are counted apart) and the
// changes its handler saw.
type host struct {
	w       *watch.Watcher
	b       *registrytest.Backend
	fleet   *redisfleet.Fleet
	changes atomic.Int32
	changed chan string
}

// tickClock is the system clock, except that a sleep as long as a tick
// lasts until its context ends: Run checks once and then waits, while the
// one-second rule of event checks runs in real time.
type tickClock struct{}

func (tickClock) Now() time.Time { return time.Now() }
func (tickClock) Sleep(ctx context.Context, d time.Duration) error {
	if d < time.Minute {
		return (&registry.Options{}).Now().Sleep(ctx, d) // the system clock's
	}
	<-ctx.Done()
	return ctx.Err()
}

// fleetOf returns n hosts watching the default runtimes' images, at
// digest "<runtime> v1", over one Redis.
func fleetOf(t *testing.T, s *miniredis.Miniredis, n int) []*host {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	var hosts []*host
	for range n {
		h := &host{b: registrytest.NewBackend("ghcr.io/molecule-ai"), fleet: redisfleet.New(client), changed: make(chan string, 16)}
		for _, rt := range registry.DefaultRuntimes() {
			h.b.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt+" v1"))
		}
		var err error
		h.w, err = watch.New(h.b, &watch.Options{Fleet: h.fleet, Clock: tickClock{}, Jitter: -1,
			Handler: func(_ context.Context, img watch.Image, _, _ string) error {
				h.changes.Add(1)
				h.changed <- img.Runtime
				return nil
			}})
		require.NoError(t, err)
		hosts = append(hosts, h)
	}
	return hosts
}

// tick runs one tick on every host, one after another, and returns the
// registry requests the fleet made.
func tick(hosts []*host) int {
	before := 0
	for _, h := range hosts {
		before += h.b.Calls()
	}
	for _, h := range hosts {
		h.w.Check(context.Background())
	}
	after := 0
	for _, h := range hosts {
		after += h.b.Calls()
	}
	return after - before
}

func push(hosts []*host, runtime, version string) {
	for _, h := range hosts {
		h.b.SetDigest("workspace-template-"+runtime, "latest", registrytest.Digest(runtime+" "+version))
	}
}

// A fleet of three asks the registry once per image per tick, not three
// times: the first host to tick checks and shares, the others take its
// digests. When an image moves, every host confirms it with one request
// of its own and runs its handler once.
func TestFleetChecksEachImageOncePerTick(t *testing.T) {
	s := miniredis.RunT(t)
	hosts := fleetOf(t, s, 3)
	images := len(registry.DefaultRuntimes())
	assert.Equal(t, 3*images, tick(hosts), "first sight: each host seeds from its own requests")
	for range 4 {
		s.FastForward(watch.DefaultInterval)
		assert.Equal(t, images, tick(hosts), "one request per image for the fleet")
	}

	push(hosts, "codex", "v2")
	s.FastForward(watch.DefaultInterval)
	assert.Equal(t, images+2, tick(hosts), "the others confirm the change with one request each")
	for _, h := range hosts {
		assert.EqualValues(t, 1, h.changes.Load(), "each host acts once, for its own daemon")
	}
	s.FastForward(watch.DefaultInterval)
	assert.Equal(t, images, tick(hosts))
}

// With Redis gone each host checks every image itself and misses no
// change; when Redis is back the fleet shares its checks again.
func TestFleetWithoutRedisPollsAlone(t *testing.T) {
	s := miniredis.RunT(t)
	hosts := fleetOf(t, s, 3)
	images := len(registry.DefaultRuntimes())
	tick(hosts)

	s.Close()
	push(hosts, "langgraph", "v2")
	assert.Equal(t, 3*images, tick(hosts), "every host checks every image")
	for _, h := range hosts {
		assert.EqualValues(t, 1, h.changes.Load(), "no change missed")
	}

	require.NoError(t, s.Restart())
	// go-redis answers with the last dial error until its own redial, once a
	// second, succeeds.
	require.Eventually(t, func() bool {
		_, _, err := hosts[0].fleet.Claim(context.Background(), "probe", time.Second)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the fleet answers again")
	tick(hosts) // the first host back claims and shares
	s.FastForward(watch.DefaultInterval)
	assert.Equal(t, images, tick(hosts), "sharing again")
}

// A push one host hears of reaches every host: each checks the image with
// its own request and runs its handler.
func TestFleetPushReachesEveryHost(t *testing.T) {
	s := miniredis.RunT(t)
	hosts := fleetOf(t, s, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.w.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	channel := "registrykit:watch:events"
	require.Eventually(t, func() bool { return s.PubSubNumSub(channel)[channel] == len(hosts) },
		10*time.Second, time.Millisecond, "every host listens")
	require.Eventually(t, func() bool {
		for _, h := range hosts {
			if len(h.w.Seen()) < len(registry.DefaultRuntimes()) {
				return false
			}
		}
		return true
	}, 10*time.Second, time.Millisecond, "every host seeded")

	push(hosts, "codex", "v2")
	_, err := hosts[0].w.CheckNow(ctx, "ghcr.io/molecule-ai/workspace-template-codex:latest")
	require.NoError(t, err)
	for i, h := range hosts {
		select {
		case rt := <-h.changed:
			assert.Equal(t, "codex", rt)
		case <-time.After(10 * time.Second):
			t.Fatalf("host %d did not act on the push", i)
		}
	}
}

// With an interval shorter than the check timeout, a tick's claim must not
// outlast the digest shared under it: the next tick, finding the digest
// gone, claims and checks at once instead of waiting for a claim nobody
// holds any more (every host would wait, then check for itself).
func TestFleetShortIntervalClaimsEachTick(t *testing.T) {
	s := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	b := registrytest.NewBackend("ghcr.io/molecule-ai")
	for _, rt := range registry.DefaultRuntimes() {
		b.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt+" v1"))
	}
	fleet := redisfleet.New(client)
	fleet.Poll = time.Hour // an Await would show as one GET per image, then wait out its bound
	w, err := watch.New(b, &watch.Options{Fleet: fleet, Clock: tickClock{}, Jitter: -1, Interval: 10 * time.Second})
	require.NoError(t, err)
	images := len(registry.DefaultRuntimes())

	w.Check(context.Background())
	s.FastForward(10 * time.Second)
	before, calls := fleet.Commands(), b.Calls()
	w.Check(context.Background())
	assert.Equal(t, images, b.Calls()-calls, "one check per image")
	assert.EqualValues(t, 4*images, fleet.Commands()-before, "GET, SET NX, then SET and PUBLISH of what it saw: no wait for a lapsed claim")
}

// However close to 1 the jitter, a shared digest and a claim expire: a
// digest kept without expiry would answer "no change" to the fleet for
// ever.
func TestFleetSharedDigestAlwaysExpires(t *testing.T) {
	s := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	b := registrytest.NewBackend("ghcr.io/molecule-ai")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v1"))
	w, err := watch.New(b, &watch.Options{Fleet: redisfleet.New(client), Clock: tickClock{},
		Runtimes: []string{"codex"}, Jitter: 0.9999999999999999})
	require.NoError(t, err)
	w.Check(context.Background())
	name := "ghcr.io/molecule-ai/workspace-template-codex:latest"
	for _, k := range []string{"registrykit:watch:seen:" + name, "registrykit:watch:claim:" + name} {
		require.True(t, s.Exists(k), k)
		assert.Positive(t, s.TTL(k), k)
	}
}
