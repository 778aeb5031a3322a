package tokencache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/internal/tokencache"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var key = tokencache.Key{Host: "ghcr.io", Scope: "repository:org/x:pull"}

// issuer hands out numbered tokens living for life on clock.
type issuer struct {
	clock *registrytest.Clock
	life  time.Duration
	n     atomic.Int64
	fail  atomic.Bool
	gate  chan struct{} // when set, fetches wait on it
}

func (i *issuer) fetch(ctx context.Context) (*oauth2.Token, error) {
	n := i.n.Add(1)
	if i.gate != nil {
		select {
		case <-i.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if i.fail.Load() {
		return nil, errors.New("token service down")
	}
	tok := &oauth2.Token{AccessToken: "t" + strconv.FormatInt(n, 10), TokenType: "Bearer"}
	if i.life > 0 {
		tok.Expiry = i.clock.Now().Add(i.life)
	}
	return tok, nil
}

func TestSingleFlight(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	iss := &issuer{clock: clock, life: time.Minute, gate: make(chan struct{})}
	c := tokencache.New(clock.Now)
	var wg sync.WaitGroup
	toks := make(chan *oauth2.Token, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, _, err := c.Get(context.Background(), key, iss.fetch)
			assert.NoError(t, err)
			toks <- tok
		}()
	}
	// Let the single fetch finish only once it has started.
	require.Eventually(t, func() bool { return iss.n.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(iss.gate)
	wg.Wait()
	close(toks)
	assert.Equal(t, int64(1), iss.n.Load(), "100 callers, one fetch")
	for tok := range toks {
		assert.Equal(t, "t1", tok.AccessToken)
	}
}

func TestRefreshAheadAndExpiry(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	ctx := context.Background()

	cases := []struct {
		life, refreshAt time.Duration
	}{
		{60 * time.Second, 30 * time.Second}, // never less than 30 s before expiry
		{12 * time.Hour, 9*time.Hour + 36*time.Minute},
		{24 * time.Hour, 19*time.Hour + 12*time.Minute},
		{20 * time.Second, 10 * time.Second}, // never in the first half
	}
	for _, tc := range cases {
		t.Run(tc.life.String(), func(t *testing.T) {
			iss := &issuer{clock: clock, life: tc.life}
			k := tokencache.Key{Host: tc.life.String()}
			tok, _, err := c.Get(ctx, k, iss.fetch)
			require.NoError(t, err)
			assert.Equal(t, "t1", tok.AccessToken)

			clock.Advance(tc.refreshAt - time.Second)
			tok, _, _ = c.Get(ctx, k, iss.fetch)
			assert.Equal(t, "t1", tok.AccessToken, "still fresh just before the refresh point")

			clock.Advance(time.Second)
			tok, _, _ = c.Get(ctx, k, iss.fetch)
			assert.Equal(t, "t2", tok.AccessToken, "refreshed at the refresh point, before expiry")
			assert.Equal(t, int64(2), iss.n.Load())
		})
	}
}

func TestNeverHandsOutExpiredToken(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: time.Minute}
	ctx := context.Background()
	_, _, err := c.Get(ctx, key, iss.fetch)
	require.NoError(t, err)

	iss.fail.Store(true)
	clock.Advance(40 * time.Second) // due, still valid: a failed refresh keeps the old token
	tok, _, err := c.Get(ctx, key, iss.fetch)
	require.NoError(t, err)
	assert.Equal(t, "t1", tok.AccessToken)

	clock.Advance(20 * time.Second) // expired: the failure surfaces
	_, _, err = c.Get(ctx, key, iss.fetch)
	require.Error(t, err)
	_, ok := c.Peek(key)
	assert.False(t, ok)
}

func TestFailedFetchIsNotCached(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: time.Minute}
	iss.fail.Store(true)
	_, _, err := c.Get(context.Background(), key, iss.fetch)
	require.Error(t, err)
	iss.fail.Store(false)
	tok, _, err := c.Get(context.Background(), key, iss.fetch)
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
}

func TestInvalidate(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: time.Hour}
	ctx := context.Background()
	t1, _, _ := c.Get(ctx, key, iss.fetch)
	c.Invalidate(key, t1)
	t2, _, _ := c.Get(ctx, key, iss.fetch)
	assert.Equal(t, "t2", t2.AccessToken)

	c.Invalidate(key, t1) // stale: t2 must survive
	t3, _, _ := c.Get(ctx, key, iss.fetch)
	assert.Same(t, t2, t3)
	c.Invalidate(tokencache.Key{Host: "other"}, t3) // unknown key: no effect
	assert.Equal(t, 1, c.Len())
}

func TestShortLivedTokensAreCached(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: 2 * time.Second}
	for range 4 {
		_, _, err := c.Get(context.Background(), key, iss.fetch)
		require.NoError(t, err)
		clock.Advance(200 * time.Millisecond)
	}
	assert.Equal(t, int64(1), iss.n.Load(), "a 2 s token serves its first second")
	clock.Advance(300 * time.Millisecond)
	tok, _, _ := c.Get(context.Background(), key, iss.fetch)
	assert.Equal(t, "t2", tok.AccessToken)
}

func TestTokensWithoutExpiryLiveForever(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock}
	_, _, _ = c.Get(context.Background(), key, iss.fetch)
	clock.Advance(1000 * time.Hour)
	tok, _, _ := c.Get(context.Background(), key, iss.fetch)
	assert.Equal(t, "t1", tok.AccessToken)
}

func TestWaiterGivesUpWithItsContext(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: time.Minute, gate: make(chan struct{})}
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		_, _, _ = c.Get(context.Background(), key, iss.fetch)
	}()
	require.Eventually(t, func() bool { return iss.n.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Get(ctx, key, iss.fetch)
	assert.ErrorIs(t, err, context.Canceled)
	close(iss.gate)
	<-leaderDone
}

// The caller that started a fetch leaves when its own context ends; the
// fetch goes on, under its own deadline, for the callers still waiting,
// and no second fetch is made.
func TestLeaderLeavesAtItsDeadlineAndTheFetchGoesOn(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	gate := make(chan struct{})
	var calls atomic.Int64
	fetch := func(ctx context.Context) (*oauth2.Token, error) {
		calls.Add(1)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &oauth2.Token{AccessToken: "ok", Expiry: clock.Now().Add(time.Minute)}, nil
	}
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, _, err := c.Get(leaderCtx, key, fetch)
		leaderErr <- err
	}()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	waiter := make(chan *oauth2.Token, 1)
	go func() {
		tok, _, err := c.Get(context.Background(), key, fetch)
		assert.NoError(t, err)
		waiter <- tok
	}()
	cancelLeader()
	assert.ErrorIs(t, <-leaderErr, context.Canceled, "the starter leaves with its own context")
	close(gate)
	assert.Equal(t, "ok", (<-waiter).AccessToken)
	assert.Equal(t, int64(1), calls.Load())
}

// A fetch that panics ends its flight with an error for every caller, so
// none hangs and the process lives; the next call fetches afresh. A fetch
// that returns nothing is an error.
func TestFetchPanicsAndNils(t *testing.T) {
	c := tokencache.New(nil)
	k := tokencache.Key{Host: "h"}
	_, _, err := c.Get(context.Background(), k, func(context.Context) (*oauth2.Token, error) { panic("boom") })
	require.Error(t, err)
	assert.ErrorContains(t, err, "panicked")
	tok, _, err := c.Get(context.Background(), k, func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "t"}, nil
	})
	require.NoError(t, err, "the key is usable after a panicking fetch")
	assert.Equal(t, "t", tok.AccessToken)
	_, _, err = c.Get(context.Background(), tokencache.Key{Host: "other"}, func(context.Context) (*oauth2.Token, error) { return nil, nil })
	assert.Error(t, err)
}

// A cache serving more repositories than MaxEntries keeps every live token:
// a tick over 300 repositories with one-hour tokens fetches each token once,
// and the ticks after it fetch none.
func TestManyKeysKeepTheirTokens(t *testing.T) {
	clock := registrytest.NewClock(time.Now())
	c := tokencache.New(clock.Now)
	iss := &issuer{clock: clock, life: time.Hour}
	const repos = tokencache.MaxEntries + 44
	for tick := range 4 {
		before := iss.n.Load()
		for r := range repos {
			_, _, err := c.Get(context.Background(), tokencache.Key{Host: "h", Scope: strconv.Itoa(r)}, iss.fetch)
			require.NoError(t, err)
		}
		want := int64(0)
		if tick == 0 {
			want = repos
		}
		assert.Equal(t, want, iss.n.Load()-before, "token fetches on tick %d", tick)
		clock.Advance(30 * time.Second)
	}
	clock.Advance(2 * time.Hour) // every token expired: the next insertion sweeps them
	_, _, err := c.Get(context.Background(), tokencache.Key{Host: "h", Scope: "new"}, iss.fetch)
	require.NoError(t, err)
	assert.Equal(t, 1, c.Len(), "expired tokens are swept once the cache is full")
}
