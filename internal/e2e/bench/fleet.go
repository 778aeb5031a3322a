package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/redis/go-redis/v9"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/internal/e2e"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
)

// FleetResult is what a fleet of watchers on one redis-server cost.
type FleetResult struct {
	Watchers, Images, Ticks int
	// FirstTick is the registry requests of the first tick, when every
	// watcher seeds from its own requests.
	FirstTick int64
	// Requests and Redis are the registry requests (HEAD, GET and token
	// requests) and the Redis commands per tick after the first, for the
	// whole fleet; RedisMax is the most Redis commands in one of those
	// ticks.
	Requests, Redis float64
	RedisMax        int64
	// BytesPerWatcher is the heap a watcher takes with its backend, its
	// Redis client and its fleet, after a tick.
	BytesPerWatcher float64
}

// MeasureFleet runs n watchers of the nine runtime images, each with its
// own backend and Redis client, over one redis-server and the imitation
// registry (distribution's token flow), for ticks ticks after a first one.
// Every tick falls on every watcher at once, the worst case for claims:
// before each, FLUSHDB stands for the lapse of the last tick's shared
// digests.
func MeasureFleet(ctx context.Context, n, ticks int) (FleetResult, error) {
	res := FleetResult{Watchers: n, Ticks: ticks}
	rs, err := e2e.StartRedis()
	if err != nil {
		return res, err
	}
	defer rs.Stop()
	admin := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer admin.Close()
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{User: Password}})
	defer srv.Close()
	for _, rt := range registry.DefaultRuntimes() {
		img, err := random.Image(64, 1)
		if err != nil {
			return res, err
		}
		if _, err := srv.Push("org/workspace-template-"+rt, "latest", img); err != nil {
			return res, err
		}
		res.Images++
	}

	before := heap()
	watchers := make([]*watch.Watcher, n)
	fleets := make([]*redisfleet.Fleet, n)
	for i := range n {
		b, err := backends.Open(srv.Host()+"/org", &registry.Options{Flavor: registry.FlavorDistribution, Env: registry.EnvMap(nil),
			Credentials: authn.Static(authn.Credential{Username: User, Password: Password})})
		if err != nil {
			return res, err
		}
		if fleets[i], err = redisfleet.Open("redis://" + rs.Addr); err != nil {
			return res, err
		}
		defer fleets[i].Close()
		if watchers[i], err = watch.New(b, &watch.Options{Fleet: fleets[i], Jitter: -1}); err != nil {
			return res, err
		}
	}
	tick := func() (requests, commands int64, err error) {
		if err := admin.FlushDB(ctx).Err(); err != nil {
			return 0, 0, err
		}
		srv.ResetCounts()
		var before int64
		for _, f := range fleets {
			before += f.Commands()
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, w := range watchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, ev := range w.Check(ctx) {
					mu.Lock()
					if ev.Kind == watch.Failed && err == nil {
						err = fmt.Errorf("fleet of %d: %s: %w", n, ev.Image.Name, ev.Err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, f := range fleets {
			commands += f.Commands()
		}
		return srv.Counts().Total(), commands - before, err
	}
	if res.FirstTick, _, err = tick(); err != nil {
		return res, err
	}
	res.BytesPerWatcher = float64(heap()-before) / float64(n)
	var requests, commands int64
	for range ticks {
		r, c, err := tick()
		if err != nil {
			return res, err
		}
		requests, commands = requests+r, commands+c
		res.RedisMax = max(res.RedisMax, c)
	}
	res.Requests = float64(requests) / float64(ticks)
	res.Redis = float64(commands) / float64(ticks)
	runtime.KeepAlive(watchers)
	return res, nil
}

// heap returns the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
