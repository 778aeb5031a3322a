package watch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
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

func (f *fakeBackend) Host() string   { return "reg.example" }
func (f *fakeBackend) Prefix() string { return "reg.example/org" }
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
	w, err := watch.New(f, watch.WithImages(images("a", "b")...), watch.WithHandler(func(_ context.Context, img watch.Image, old, new string) error {
		changes = append(changes, change{img.Repo, old, new})
		return nil
	}))
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
	w, err := watch.New(f, watch.WithImages(images("a")...), watch.WithHandler(func(context.Context, watch.Image, string, string) error {
		calls++
		if fail {
			return errors.New("docker pull failed")
		}
		return nil
	}))
	require.NoError(t, err)
	ctx := context.Background()
	w.Check(ctx)
	f.set("a", d(2))

	evs := w.Check(ctx)
	require.Len(t, evs, 1)
	assert.Equal(t, watch.Error, evs[0].Kind)
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
	w, err := watch.New(f, watch.WithImages(images("a")...),
		watch.WithSeed(map[string]string{"reg.example/org/a:latest": d(1)}),
		watch.WithHandler(func(_ context.Context, img watch.Image, old, new string) error {
			got = append(got, change{img.Repo, old, new})
			return nil
		}))
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
	w, err := watch.New(f, watch.WithImages(images("ok", "broken", "limited")...), watch.WithClock(clock),
		watch.WithEvents(func(e watch.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
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
		if e.Kind == watch.Error {
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
	w, err := watch.New(f, watch.WithImages(images("a")...), watch.WithPlatform(registry.Platform{OS: "linux", Architecture: "amd64"}))
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
	w, err := watch.New(f, watch.WithImages(images(names...)...), watch.WithConcurrency(3))
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
	w, err := watch.New(f, watch.WithImages(images("a")...), watch.WithInterval(time.Hour))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- w.Run(ctx) }()
	require.Eventually(t, func() bool { return f.callsOf("a") == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-stopped:
		assert.NoError(t, err)
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
	}}, watch.WithImages(images("a")...), watch.WithClock(clock), watch.WithJitter(0.1))
	require.NoError(t, err)
	start := clock.Now()
	require.NoError(t, w.Run(ctx))
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
	for _, opts := range [][]watch.Option{
		{watch.WithImages()}, {watch.WithInterval(0)}, {watch.WithJitter(1)}, {watch.WithConcurrency(0)},
	} {
		opts = append([]watch.Option{watch.WithImages(images("a")...)}, opts...)
		_, err := watch.New(f, opts...)
		assert.Error(t, err)
	}
	w, err := watch.New(f)
	require.NoError(t, err)
	assert.Len(t, w.Check(context.Background()), 9, "every runtime image by default")
}

func TestEventJSON(t *testing.T) {
	e := watch.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Image: images("a")[0], Kind: watch.Error, Old: d(1), New: d(2), Err: errors.New("boom")}
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
	b, err := backends.Open(srv.Host()+"/molecule-ai", registry.WithFlavor(registry.FlavorGHCR), registry.WithEnvMap(nil))
	require.NoError(t, err)
	lg, _ := watch.RuntimeImage(b, "langgraph")
	cx, _ := watch.RuntimeImage(b, "codex")
	var got []string
	w, err := watch.New(b, watch.WithImages(lg, cx), watch.WithHandler(func(_ context.Context, img watch.Image, _, _ string) error {
		got = append(got, img.Runtime)
		return nil
	}))
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
