package watch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeBackend serves digests from a map and counts calls.
type fakeBackend struct {
	mu                    sync.Mutex
	digests               map[string]string // repo -> digest
	platform              map[string]string // repo -> platform digest
	errs                  map[string]error
	calls                 map[string]int
	inflight, maxInflight int
	release               chan struct{} // when set, checks block on it
}

func newFake() *fakeBackend {
	return &fakeBackend{digests: map[string]string{}, platform: map[string]string{}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeBackend) Host() string { return "reg.example" }
func (f *fakeBackend) Credential(context.Context) (authn.Credential, error) {
	return authn.Credential{}, nil
}
func (f *fakeBackend) Flavor() registry.Flavor                               { return registry.FlavorDistribution }
func (f *fakeBackend) Discover(context.Context) (*registry.Challenge, error) { return nil, nil }
func (f *fakeBackend) PrepareTokens(context.Context, []string) error         { return nil }
func (f *fakeBackend) Prefix() string                                        { return "reg.example/org" }
func (f *fakeBackend) Token(context.Context, string) (*oauth2.Token, error) {
	return &oauth2.Token{}, nil
}

func (f *fakeBackend) ManifestDigest(ctx context.Context, repo, _ string) (string, error) {
	return f.lookup(ctx, repo, f.digests)
}

func (f *fakeBackend) PlatformDigest(ctx context.Context, repo, _ string, _ registry.Platform) (string, error) {
	return f.lookup(ctx, repo, f.platform)
}

func (f *fakeBackend) lookup(ctx context.Context, repo string, m map[string]string) (string, error) {
	f.mu.Lock()
	f.calls[repo]++
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	release := f.release
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inflight--; f.mu.Unlock() }()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[repo]; err != nil {
		return "", err
	}
	return m[repo], nil
}

func (f *fakeBackend) set(repo, digest string) {
	f.mu.Lock()
	f.digests[repo] = digest
	f.mu.Unlock()
}

func (f *fakeBackend) fail(repo string, err error) {
	f.mu.Lock()
	f.errs[repo] = err
	f.mu.Unlock()
}

func (f *fakeBackend) callsOf(repo string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[repo]
}

func d(n int) string { return fmt.Sprintf("sha256:%064d", n) }

func images(names ...string) []watch.Image {
	var out []watch.Image
	for _, n := range names {
		out = append(out, watch.Image{Name: "reg.example/org/" + n + ":latest", Repo: n, Tag: "latest"})
	}
	return out
}

type change struct{ image, old, new string }

func TestSeedThenChange(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	f.set("b", d(2))
	var changes []change
	w, err := watch.New(f, &watch.Options{Images: images("a", "b"), Handler: func(_ context.Context, img watch.Image, old, new string) error {
		changes = append(changes, change{img.Repo, old, new})
		return nil
	}})
	require.NoError(t, err)
	ctx := context.Background()

	evs := w.Check(ctx)
	require.Len(t, evs, 2)
	for _, e := range evs {
		assert.Equal(t, watch.Seed, e.Kind)
	}
	assert.Empty(t, changes, "first sight only seeds")

	assert.Empty(t, w.Check(ctx), "nothing moved")
	f.set("a", d(3))
	evs = w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind)
	assert.Equal(t, d(1), evs[0].Old)
	assert.Equal(t, d(3), evs[0].New)
	assert.Equal(t, []change{{"a", d(1), d(3)}}, changes)
	assert.Equal(t, map[string]string{"reg.example/org/a:latest": d(3), "reg.example/org/b:latest": d(2)}, w.Seen())
}

func TestHandlerFailureRollsBack(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	fail := true
	calls := 0
	w, err := watch.New(f, &watch.Options{Images: images("a"), Handler: func(context.Context, watch.Image, string, string) error {
		calls++
		if fail {
			return errors.New("docker pull failed")
		}
		return nil
	}})
	require.NoError(t, err)
	ctx := context.Background()
	w.Check(ctx)
	f.set("a", d(2))

	evs := w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Failed, evs[0].Kind)
	assert.ErrorContains(t, evs[0].Err, "docker pull failed")
	assert.Equal(t, d(1), w.Seen()["reg.example/org/a:latest"], "rolled back")

	fail = false
	evs = w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind)
	assert.Equal(t, 2, calls, "the next tick retried the refresh")
	assert.Equal(t, d(2), w.Seen()["reg.example/org/a:latest"])
}

func TestSeedFromRunning(t *testing.T) {
	f := newFake()
	f.set("a", d(2))
	var got []change
	w, err := watch.New(f, &watch.Options{Images: images("a"), Seed: map[string]string{"reg.example/org/a:latest": d(1)}, Handler: func(_ context.Context, img watch.Image, old, new string) error {
		got = append(got, change{img.Repo, old, new})
		return nil
	}})
	require.NoError(t, err)
	evs := w.Check(context.Background())
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind, "a change missed while down still refreshes")
	assert.Equal(t, []change{{"a", d(1), d(2)}}, got)
}

func TestErrorsAreReportedAndBackOff(t *testing.T) {
	f := newFake()
	f.set("ok", d(1))
	f.fail("broken", &registry.Error{Kind: registry.ErrUnavailable})
	f.fail("limited", &registry.Error{Kind: registry.ErrRateLimited, RetryAfter: 12 * time.Minute})
	clock := registrytest.NewClock(time.Now())
	var events []watch.Event
	var mu sync.Mutex
	w, err := watch.New(f, &watch.Options{Images: images("ok", "broken", "limited"), Clock: clock, OnEvent: func(e watch.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	require.NoError(t, err)
	ctx := context.Background()
	for range 10 {
		w.Check(ctx)
		clock.Advance(watch.DefaultInterval)
	}
	assert.Equal(t, 10, f.callsOf("ok"), "a failing image never stops the others")
	// broken: ticks 0 and 1, then after 1, 2, 4 intervals: 0,1,2,4,8 -> 5 calls in 10 ticks.
	assert.Equal(t, 5, f.callsOf("broken"), "repeated failures back off")
	// limited: every 12 minutes = every third 5-minute tick: 0,3,6,9.
	assert.Equal(t, 4, f.callsOf("limited"), "rate limiting postpones until Retry-After")
	errorsSeen := 0
	for _, e := range events {
		if e.Kind == watch.Failed {
			errorsSeen++
			assert.NotEmpty(t, e.Image.Name)
		}
	}
	assert.Equal(t, 9, errorsSeen, "each failed check is reported")

	f.fail("broken", nil)
	clock.Advance(watch.MaxBackoffIntervals * watch.DefaultInterval)
	evs := w.Check(ctx)
	kinds := map[string]watch.Kind{}
	for _, e := range evs {
		kinds[e.Image.Repo] = e.Kind
	}
	assert.Equal(t, watch.Seed, kinds["broken"], "recovers")
}

func TestPlatformMode(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	f.platform["a"] = d(100)
	w, err := watch.New(f, &watch.Options{Images: images("a"), Platform: &registry.Platform{OS: "linux", Architecture: "amd64"}})
	require.NoError(t, err)
	evs := w.Check(context.Background())
	require.Len(t, evs, 1)
	assert.Equal(t, d(100), evs[0].New)
	f.set("a", d(2)) // a new index (say, a new arm64 build) with the same amd64 manifest
	assert.Empty(t, w.Check(context.Background()), "amd64 hosts are not restarted")
}

func TestConcurrencyBound(t *testing.T) {
	f := newFake()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	for i, n := range names {
		f.set(n, d(i))
	}
	f.release = make(chan struct{})
	w, err := watch.New(f, &watch.Options{Images: images(names...), Concurrency: 3})
	require.NoError(t, err)
	done := make(chan []watch.Event)
	go func() { done <- w.Check(context.Background()) }()
	require.Eventually(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.inflight == 3 }, 5*time.Second, time.Millisecond)
	close(f.release)
	assert.Len(t, <-done, 9)
	assert.Equal(t, 3, f.maxInflight)
}

func TestRunStopsWithContext(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	f.release = make(chan struct{}) // checks hang until the context ends
	w, err := watch.New(f, &watch.Options{Images: images("a"), Interval: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	require.Eventually(t, func() bool { return f.callsOf("a") == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRunTicksOnTheClock(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	clock := registrytest.NewClock(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	ticks := 0
	w, err := watch.New(&countingBackend{fakeBackend: f, onCall: func() {
		ticks++
		if ticks == 5 {
			cancel()
		}
	}}, &watch.Options{Images: images("a"), Clock: clock, Jitter: 0.1})
	require.NoError(t, err)
	start := clock.Now()
	w.Run(ctx)
	assert.Equal(t, 5, ticks)
	slept := clock.Slept()
	require.Len(t, slept, 4)
	for _, s := range slept {
		assert.InDelta(t, float64(watch.DefaultInterval), float64(s), float64(watch.DefaultInterval)/10+1)
	}
	assert.True(t, clock.Now().After(start.Add(3*watch.DefaultInterval)))
}

type countingBackend struct {
	*fakeBackend
	onCall func()
}

func (c *countingBackend) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	c.onCall()
	return c.fakeBackend.ManifestDigest(ctx, repo, ref)
}

func TestNewValidates(t *testing.T) {
	f := newFake()
	for name, o := range map[string]watch.Options{
		"negative interval":            {Interval: -time.Second},
		"jitter of a whole interval":   {Jitter: 1},
		"negative concurrency":         {Concurrency: -1},
		"negative handler concurrency": {HandlerConcurrency: -1},
		"negative check timeout":       {CheckTimeout: -time.Nanosecond},
		"invalid runtime":              {Runtimes: []string{"Bad Name"}},
	} {
		if o.Runtimes == nil {
			o.Images = images("a")
		}
		_, err := watch.New(f, &o)
		assert.Error(t, err, name)
	}
	w, err := watch.New(f, nil)
	require.NoError(t, err)
	assert.Len(t, w.Check(context.Background()), 9, "every runtime image by default")
}

func TestEventJSON(t *testing.T) {
	e := watch.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Image: images("a")[0], Kind: watch.Failed, Old: d(1), New: d(2), Err: errors.New("boom")}
	b, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"time":"2026-01-02T03:04:05Z","image":"reg.example/org/a:latest","event":"error","old":"`+d(1)+`","new":"`+d(2)+`","error":"boom"}`, string(b))
}

// Against a registry: an image re-pushed between ticks is detected.
func TestAgainstRegistryRepush(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()
	for _, rt := range []string{"langgraph", "codex"} {
		img, _ := random.Image(32, 1)
		_, err := srv.Push("molecule-ai/workspace-template-"+rt, "latest", img)
		require.NoError(t, err)
	}
	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(nil)})
	require.NoError(t, err)
	var got []string
	w, err := watch.New(b, &watch.Options{Runtimes: []string{"langgraph", "codex"}, Handler: func(_ context.Context, img watch.Image, _, _ string) error {
		got = append(got, img.Runtime)
		return nil
	}})
	require.NoError(t, err)
	w.Check(context.Background())
	img, _ := random.Image(32, 1)
	h, err := srv.Push("molecule-ai/workspace-template-codex", "latest", img)
	require.NoError(t, err)
	evs := w.Check(context.Background())
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Changed, evs[0].Kind)
	assert.Equal(t, h.String(), evs[0].New)
	assert.Equal(t, []string{"codex"}, got)
	assert.True(t, strings.HasSuffix(evs[0].Image.Name, "workspace-template-codex:latest"))
}

// parkedForHandlerSlot counts the goroutines blocked waiting for a handler
// slot: those blocked with the watcher's callHandler as innermost frame (a
// goroutine inside a handler has the handler's frame innermost). It lets a
// test tell, without waiting on time, that the checks not in a handler are
// held back by the handler limit rather than still on their way to it.
func parkedForHandlerSlot() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	parked := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		lines := strings.SplitN(g, "\n", 3)
		blocked := !strings.Contains(lines[0], "[running") && !strings.Contains(lines[0], "[runnable")
		if len(lines) >= 2 && blocked && strings.Contains(lines[1], "registry/watch.(*Watcher).callHandler(") {
			parked++
		}
	}
	return parked
}

// receive returns the next value of ch, failing the test if none comes.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		require.FailNow(t, "timed out waiting for "+what)
		panic("unreachable")
	}
}

// TestHandlerConcurrency proves that handler calls are bounded by the
// handler limit (1 by default), not by the checks in flight.
func TestHandlerConcurrency(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	for _, tc := range []struct {
		name  string
		n     int
		limit int
	}{
		{"one at a time by default", 0, watch.DefaultHandlerConcurrency},
		{"HandlerConcurrency 3", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 1, watch.DefaultHandlerConcurrency)
			b := registrytest.NewBackend("reg.example/org")
			seed := map[string]string{}
			for _, img := range images(names...) {
				seed[img.Name] = registrytest.Digest(img.Repo + " old")
				b.SetDigest(img.Repo, "latest", registrytest.Digest(img.Repo+" new"))
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // unblocks the handlers if the test fails early

			var active, maxActive atomic.Int32
			entered := make(chan string, len(names))
			release := make(chan struct{})
			handler := func(ctx context.Context, img watch.Image, _, _ string) error {
				cur := active.Add(1)
				for m := maxActive.Load(); cur > m && !maxActive.CompareAndSwap(m, cur); m = maxActive.Load() {
				}
				entered <- img.Repo
				defer active.Add(-1)
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			w, err := watch.New(b, &watch.Options{Images: images(names...), Seed: seed,
				Concurrency: len(names), Handler: handler, HandlerConcurrency: tc.n})
			require.NoError(t, err)

			done := make(chan []watch.Event, 1)
			go func() { done <- w.Check(ctx) }()

			// Each round, as many handlers as the limit allows are running and
			// blocked; every other check is waiting for a slot, so a handler
			// beyond the limit would have started.
			for remaining := len(names); remaining > 0; {
				batch := min(tc.limit, remaining)
				for range batch {
					receive(t, entered, "a handler to start")
				}
				require.Eventually(t, func() bool { return parkedForHandlerSlot()+int(active.Load()) == remaining },
					10*time.Second, time.Millisecond, "every check left is in a handler or waiting for a slot")
				require.EqualValues(t, batch, active.Load(), "handlers running at once")
				for range batch {
					release <- struct{}{}
				}
				remaining -= batch
			}

			evs := receive(t, done, "Check to return")
			require.Len(t, evs, len(names))
			for _, e := range evs {
				assert.Equal(t, watch.Changed, e.Kind, e.Image.Name)
			}
			assert.EqualValues(t, tc.limit, maxActive.Load(), "the limit is reached and never exceeded")
			assert.Zero(t, parkedForHandlerSlot())
		})
	}
}

// TestHandlerConcurrencyValidated checks that New rejects a negative
// limit, and takes 0 for the default.
func TestHandlerConcurrencyValidated(t *testing.T) {
	f := newFake()
	_, err := watch.New(f, &watch.Options{Images: images("a"), HandlerConcurrency: -1})
	assert.ErrorContains(t, err, "handler concurrency")
	_, err = watch.New(f, &watch.Options{Images: images("a"), HandlerConcurrency: 0})
	assert.NoError(t, err, "0 is the default, 1")
}

// TestRuntimes checks that any valid runtime name is watched.
func TestRuntimes(t *testing.T) {
	const prefix = "reg.example/org"
	for _, tc := range []struct {
		name     string
		runtimes []string
		want     []string // runtimes watched, in order
	}{
		{"one default runtime", []string{"langgraph"}, []string{"langgraph"}},
		{"in the order given", []string{"zeta", "alpha"}, []string{"zeta", "alpha"}},
		{"runtimes outside the default list", []string{"my-runtime", "custom.rt_2", "x9"}, []string{"my-runtime", "custom.rt_2", "x9"}},
		{"none means the defaults", nil, registry.DefaultRuntimes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := registrytest.NewBackend(prefix)
			for _, rt := range tc.want {
				b.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt))
			}
			w, err := watch.New(b, &watch.Options{Runtimes: tc.runtimes})
			require.NoError(t, err)
			assert.Zero(t, b.Calls(), "New does no I/O")
			evs := w.Check(context.Background())
			require.Len(t, evs, len(tc.want))
			for i, rt := range tc.want {
				e := evs[i]
				assert.Equal(t, watch.Seed, e.Kind)
				assert.Equal(t, watch.Image{
					Name: prefix + "/workspace-template-" + rt + ":latest", Repo: "workspace-template-" + rt,
					Tag: "latest", Runtime: rt,
				}, e.Image)
				assert.Equal(t, registrytest.Digest(rt), e.New)
			}
		})
	}
}

// TestRuntimesRejectsInvalidNames checks that New fails on an invalid
// runtime name with an error matching registry.ErrInvalidConfig.
func TestRuntimesRejectsInvalidNames(t *testing.T) {
	b := registrytest.NewBackend("reg.example/org")
	for _, bad := range []string{"Bad Name", "UPPER", "a/b", "", "-lead", "tag:x"} {
		t.Run(bad, func(t *testing.T) {
			w, err := watch.New(b, &watch.Options{Runtimes: []string{"langgraph", bad}})
			require.ErrorIs(t, err, registry.ErrInvalidConfig)
			assert.Nil(t, w)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", bad), "the error quotes the name")
		})
	}
	_, err := watch.New(b, &watch.Options{Images: images("a"), Runtimes: []string{"Bad Name"}})
	assert.NoError(t, err, "explicit images take the place of the runtimes")
}

// A watcher started while its registry is unreachable reports errors, then
// seeds and follows changes once the registry answers.
func TestStartsWhileRegistryUnreachable(t *testing.T) {
	down := &registry.Error{Kind: registry.ErrUnavailable, Op: "manifest digest", Detail: "connection refused"}
	runtimes := []string{"langgraph", "codex"}
	for _, tc := range []struct {
		name    string
		running bool // the digests already running are passed as a seed
	}{
		{"seeds, then reports a change", false},
		{"reports the change missed while down", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := registrytest.NewBackend("reg.example/org")
			clock := registrytest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			var changes []change
			o := &watch.Options{
				Runtimes: runtimes, Clock: clock, Jitter: -1,
				Handler: func(_ context.Context, img watch.Image, old, new string) error {
					changes = append(changes, change{img.Runtime, old, new})
					return nil
				},
			}
			if tc.running {
				o.Seed = map[string]string{}
				for _, rt := range runtimes {
					name, err := registry.RuntimeImage(b, rt)
					require.NoError(t, err)
					o.Seed[name] = registrytest.Digest(rt + " v0")
				}
			}
			for _, rt := range runtimes {
				b.SetError("workspace-template-"+rt, "latest", down)
			}
			w, err := watch.New(b, o)
			require.NoError(t, err, "New does not need the registry")
			ctx := context.Background()

			// Two ticks while the registry is down: errors, nothing recorded
			// beyond the seed.
			for tick := range 2 {
				evs := w.Check(ctx)
				require.Len(t, evs, 2, "tick %d", tick)
				for _, e := range evs {
					assert.Equal(t, watch.Failed, e.Kind)
					assert.ErrorIs(t, e.Err, registry.ErrUnavailable)
				}
				clock.Advance(watch.DefaultInterval)
			}
			assert.Equal(t, 4, b.Calls())
			assert.Empty(t, changes)
			if !tc.running {
				assert.Empty(t, w.Seen())
			}

			// The registry answers (after the back-off of a second failure).
			for _, rt := range runtimes {
				b.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt+" v1"))
			}
			evs := w.Check(ctx)
			require.Len(t, evs, 2)
			for i, e := range evs {
				rt := runtimes[i]
				assert.Equal(t, registrytest.Digest(rt+" v1"), e.New)
				if tc.running {
					assert.Equal(t, watch.Changed, e.Kind)
					assert.Equal(t, registrytest.Digest(rt+" v0"), e.Old)
				} else {
					assert.Equal(t, watch.Seed, e.Kind)
				}
			}
			if tc.running {
				assert.Equal(t, []change{
					{"langgraph", registrytest.Digest("langgraph v0"), registrytest.Digest("langgraph v1")},
					{"codex", registrytest.Digest("codex v0"), registrytest.Digest("codex v1")},
				}, sortedChanges(changes))
			} else {
				assert.Empty(t, changes, "first sight only seeds")
			}

			// Then it follows changes as usual.
			changes = nil
			clock.Advance(watch.DefaultInterval)
			b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v2"))
			evs = w.Check(ctx)
			require.Len(t, evs, 1)
			assert.Equal(t, watch.Changed, evs[0].Kind)
			assert.Equal(t, []change{{"codex", registrytest.Digest("codex v1"), registrytest.Digest("codex v2")}}, changes)
			assert.Equal(t, map[string]string{
				"reg.example/org/workspace-template-langgraph:latest": registrytest.Digest("langgraph v1"),
				"reg.example/org/workspace-template-codex:latest":     registrytest.Digest("codex v2"),
			}, w.Seen())
		})
	}
}

// sortedChanges orders changes as the runtimes langgraph, codex (handlers of
// one tick run in no particular order).
func sortedChanges(cs []change) []change {
	order := map[string]int{"langgraph": 0, "codex": 1}
	out := append([]change(nil), cs...)
	slices.SortFunc(out, func(a, b change) int { return order[a.image] - order[b.image] })
	return out
}

// A tick asks for the tokens its images lack in one request where the
// token service honours several scopes, and runs every check at once:
// requests per tick are images + 1 at most, in every state.
func TestTickRequestEconomy(t *testing.T) {
	names := registry.DefaultRuntimes()
	yes := true
	for _, tc := range []struct {
		name       string
		mode       registrytest.Mode
		flavor     registry.Flavor
		coldTokens int64 // the first tick
		tokens     int64 // a tick after the tokens expired
		multiScope *bool
		drivers    []engine.Spec
	}{
		{"distribution", registrytest.Distribution, registry.FlavorUnknown, 1, 1, nil, nil},
		{"gitlab", registrytest.GitLab, registry.FlavorUnknown, 1, 1, nil, nil},
		{"ghcr with a PAT", registrytest.GHCR, registry.FlavorGHCR, 0, 0, nil, nil},
		{"ghcr token service reading every scope", registrytest.GHCR, registry.FlavorGHCR, 1, 1, &yes,
			[]engine.Spec{ghcr.Driver(&ghcr.Config{TokenService: true})}},
		{"gitea", registrytest.Gitea, registry.FlavorUnknown, 0, 0, nil, nil}, // Basic on /v2/: no token
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := registrytest.NewClock(time.Now())
			srv, w := tickRig(t, clock, registrytest.Config{Mode: tc.mode, MultiScope: tc.multiScope}, tc.flavor, tc.drivers...)

			for _, ev := range w.Check(context.Background()) {
				require.Equal(t, watch.Seed, ev.Kind, ev.Err)
			}
			c := srv.Counts()
			assert.Equal(t, int64(len(names)), c.Head)
			assert.Equal(t, tc.coldTokens, c.Token, "first tick")
			if tc.coldTokens > 0 { // that one request named every image's scope
				scopes := srv.TokenRequests()
				for _, rt := range names {
					assert.Equal(t, 1, scopes["repository:org/workspace-template-"+rt+":pull"], rt)
				}
			}

			clock.Advance(25 * time.Hour) // every token has expired
			srv.ResetCounts()
			for _, ev := range w.Check(context.Background()) {
				require.NotEqual(t, watch.Failed, ev.Kind, ev.Err)
			}
			c = srv.Counts()
			assert.Equal(t, int64(len(names)), c.Head)
			assert.Equal(t, tc.tokens, c.Token, "a tick with expired tokens")
			assert.Zero(t, c.Rejected)
			assert.LessOrEqual(t, c.Total(), int64(len(names)+1), "images + 1 at most")
		})
	}
}

// tickRig serves the default runtimes' images from a registrytest server
// configured by cfg (with user u) and returns a watcher of them on clock.
func tickRig(t *testing.T, clock *registrytest.Clock, cfg registrytest.Config, flavor registry.Flavor, drivers ...engine.Spec) (*registrytest.Server, *watch.Watcher) {
	return tickRigWithout(t, clock, cfg, flavor, "", drivers...)
}

// tickRigWithout is tickRig with the runtime missing left unpushed.
func tickRigWithout(t *testing.T, clock *registrytest.Clock, cfg registrytest.Config, flavor registry.Flavor, missing string, drivers ...engine.Spec) (*registrytest.Server, *watch.Watcher) {
	t.Helper()
	cfg.Users, cfg.Now = map[string]string{"u": "pw-0123456789"}, clock.Now
	srv := registrytest.NewServer(cfg)
	t.Cleanup(srv.Close)
	for _, rt := range registry.DefaultRuntimes() {
		if rt == missing {
			continue
		}
		img, _ := random.Image(16, 1)
		_, err := srv.Push("org/workspace-template-"+rt, "latest", img)
		require.NoError(t, err)
	}
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Clock: clock, Env: registry.EnvMap(nil), Flavor: flavor,
		Credentials: authn.Static(authn.Credential{Username: "u", Password: "pw-0123456789"})}, drivers...)
	require.NoError(t, err)
	w, err := watch.New(b, &watch.Options{Clock: clock})
	require.NoError(t, err)
	return srv, w
}

// A token service that reads only the first of several scopes costs one
// extra token request and HEAD per image, once: the tick after asks for one
// scope per token request. A repository the service denies is no such sign.
func TestTickStopsAskingSeveralScopesOfAServiceThatKeepsOne(t *testing.T) {
	names := registry.DefaultRuntimes()
	n := int64(len(names))
	ghcrTokens := []engine.Spec{ghcr.Driver(&ghcr.Config{TokenService: true})}
	no := false
	firstScope := registrytest.Config{Mode: registrytest.Distribution, MultiScope: &no}
	firstScope403 := firstScope
	firstScope403.OutOfScopeStatus = http.StatusForbidden
	for _, tc := range []struct {
		name    string
		cfg     registrytest.Config
		flavor  registry.Flavor
		drivers []engine.Spec
		missing string // a runtime not pushed: its check answers 404
	}{
		{"ghcr token service as modelled", registrytest.Config{Mode: registrytest.GHCR}, registry.FlavorGHCR, ghcrTokens, ""},
		{"distribution reading the first scope", firstScope, registry.FlavorUnknown, nil, ""},
		// Whether ghcr.io answers a token without the repository's scope
		// with 401 or 403 is not documented: either shows it. The
		// distribution driver counts no 403 as a refusal of its own.
		{"ghcr token service answering 403", registrytest.Config{Mode: registrytest.GHCR, OutOfScopeStatus: http.StatusForbidden}, registry.FlavorGHCR, ghcrTokens, ""},
		{"distribution reading the first scope, answering 403", firstScope403, registry.FlavorUnknown, nil, ""},
		// The one repository the token covered answers 404: the token
		// passed, which is the evidence.
		{"the covered repository missing", registrytest.Config{Mode: registrytest.GHCR}, registry.FlavorGHCR, ghcrTokens, names[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := registrytest.NewClock(time.Now())
			srv, w := tickRigWithout(t, clock, tc.cfg, tc.flavor, tc.missing, tc.drivers...)
			w.Check(context.Background())
			c := srv.Counts()
			assert.Equal(t, n, c.Token, "one for every scope, then one per image but the first")
			assert.Equal(t, 2*n-1, c.Head, "the images but the first were refused once")
			assert.Equal(t, n-1, c.Rejected)

			clock.Advance(25 * time.Hour)
			srv.ResetCounts()
			w.Check(context.Background())
			c = srv.Counts()
			assert.Equal(t, registrytest.Counts{Token: n, Head: n}, c, "one scope per token request")
		})
	}

	// Signs that are not: a repository the service denies (a 403 for the
	// tick's token and for its own), and tokens refused everywhere (the
	// service forgot them, as after a restart with new keys).
	denied := "org/workspace-template-" + names[0]
	for _, tc := range []struct {
		name            string
		cfg             registrytest.Config
		before          func(*registrytest.Server) // before the second tick
		second, expired registrytest.Counts
	}{
		{"a denied repository",
			registrytest.Config{Mode: registrytest.Distribution, Denied: func(repo string) bool { return repo == denied }},
			func(*registrytest.Server) {},
			registrytest.Counts{Head: n, Rejected: 1},
			registrytest.Counts{Token: 1, Head: n, Rejected: 1}}, // the service is known to read every scope: a 403 is a denial
		{"revoked tokens",
			registrytest.Config{Mode: registrytest.Distribution},
			(*registrytest.Server).RevokeTokens,
			registrytest.Counts{Token: n, Head: 2 * n, Rejected: n},
			registrytest.Counts{Token: 1, Head: n}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := registrytest.NewClock(time.Now())
			srv, w := tickRig(t, clock, tc.cfg, registry.FlavorUnknown)
			w.Check(context.Background())
			tc.before(srv)
			clock.Advance(time.Minute) // tokens still valid
			srv.ResetCounts()
			w.Check(context.Background())
			assert.Equal(t, tc.second, srv.Counts(), "the second tick")
			for tick := range 2 {
				clock.Advance(25 * time.Hour) // every token has expired
				srv.ResetCounts()
				w.Check(context.Background())
				assert.Equal(t, tc.expired, srv.Counts(), "expired tick %d: still one token for the tick's scopes", tick+1)
			}
		})
	}
}
