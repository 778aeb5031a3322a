package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConcurrentCallersShareOneRun(t *testing.T) {
	var g Group[string, int]
	var runs atomic.Int32
	release := make(chan struct{})
	work := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 42, nil
	}
	const callers = 8
	var wg sync.WaitGroup
	results := make(chan int, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := g.Do(context.Background(), "k", work)
			assert.NoError(t, err)
			results <- v
		}()
	}
	require.Eventually(t, func() bool { return joiners(&g, "k") == callers-1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		assert.Equal(t, 42, v)
	}
	assert.Equal(t, int32(1), runs.Load())
	assert.False(t, g.Busy("k"), "a finished run is forgotten")
}

func TestKeysRunApart(t *testing.T) {
	var g Group[string, string]
	a, err := g.Do(context.Background(), "a", func(context.Context) (string, error) { return "A", nil })
	require.NoError(t, err)
	b, err := g.Do(context.Background(), "b", func(context.Context) (string, error) { return "B", nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B"}, []string{a, b})
}

// The starter of a run leaves at its own deadline although the work never
// answers; a caller with a longer deadline still gets the result.
func TestEveryCallerLeavesAtItsOwnDeadline(t *testing.T) {
	var g Group[int, string]
	release := make(chan struct{})
	started := make(chan struct{})
	work := func(ctx context.Context) (string, error) {
		close(started)
		select {
		case <-release:
			return "token", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	starterCtx, cancelStarter := context.WithCancel(context.Background())
	starterDone := make(chan error, 1)
	go func() {
		_, err := g.Do(starterCtx, 1, work)
		starterDone <- err
	}()
	<-started
	waiterDone := make(chan string, 1)
	go func() {
		v, err := g.Do(context.Background(), 1, work)
		assert.NoError(t, err)
		waiterDone <- v
	}()
	require.Eventually(t, func() bool { return joiners(&g, 1) == 1 }, 5*time.Second, time.Millisecond)
	cancelStarter()
	select {
	case err := <-starterDone:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the starter did not leave when its context ended")
	}
	close(release)
	assert.Equal(t, "token", <-waiterDone, "the run went on for the caller still waiting")
}

func TestRunHasItsOwnDeadlineAndTheStartersValues(t *testing.T) {
	type key struct{}
	g := Group[int, time.Duration]{Timeout: time.Hour}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "trace"))
	defer cancel()
	v, err := g.Do(ctx, 0, func(ctx context.Context) (time.Duration, error) {
		if ctx.Value(key{}) != "trace" {
			return 0, errors.New("the starter's values were lost")
		}
		dl, ok := ctx.Deadline()
		if !ok {
			return 0, errors.New("the run has no deadline")
		}
		return time.Until(dl), nil
	})
	require.NoError(t, err)
	assert.Greater(t, v, 59*time.Minute)
}

func TestPanicEndsTheRunForEveryoneAndTheNextCallStartsAfresh(t *testing.T) {
	var g Group[string, int]
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				close(started)
				<-release
				panic("driver bug")
			})
			done <- err
		}()
	}
	<-started
	require.Eventually(t, func() bool { return joiners(&g, "k") == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	for range 2 {
		select {
		case err := <-done:
			assert.ErrorIs(t, err, ErrPanicked)
			assert.ErrorContains(t, err, "driver bug")
		case <-time.After(5 * time.Second):
			t.Fatal("a caller hangs after the work panicked")
		}
	}
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

func TestErrorsAreNotRemembered(t *testing.T) {
	var g Group[string, int]
	boom := errors.New("boom")
	_, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 0, boom })
	require.ErrorIs(t, err, boom)
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil })
	require.NoError(t, err)
	assert.Equal(t, 1, v)
}

// joiners returns how many callers joined the run under way for key.
func joiners[K comparable, V any](g *Group[K, V], key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.joiners
	}
	return -1
}

// A caller that joined a run which ran out of its own time starts afresh
// while its own context lives; the run's starter gets the run's error.
func TestJoinerOfARunThatTimedOutStartsAfresh(t *testing.T) {
	var g Group[string, string]
	release := make(chan struct{})
	started := make(chan struct{})
	var runs atomic.Int32
	work := func(ctx context.Context) (string, error) {
		if runs.Add(1) == 1 {
			close(started)
			<-release
			return "", context.DeadlineExceeded // the first run's own deadline
		}
		return "fresh", nil
	}
	starter := make(chan error, 1)
	go func() {
		_, err := g.Do(context.Background(), "k", work)
		starter <- err
	}()
	<-started
	joiner := make(chan string, 1)
	go func() {
		v, err := g.Do(context.Background(), "k", work)
		assert.NoError(t, err)
		joiner <- v
	}()
	require.Eventually(t, func() bool { return joiners(&g, "k") == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	assert.ErrorIs(t, <-starter, context.DeadlineExceeded)
	assert.Equal(t, "fresh", <-joiner)
	assert.Equal(t, int32(2), runs.Load())
}

// Work that keeps failing with a timeout costs each caller at most two
// runs: the callers that joined a failed run start afresh once (one of
// them starts the second run, the others join it), not once per caller one
// after another.
func TestTimeoutsAreRetriedOncePerCaller(t *testing.T) {
	var g Group[string, int]
	var runs atomic.Int32
	release := []chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{})}
	work := func(context.Context) (int, error) {
		n := runs.Add(1)
		if int(n) <= len(release) {
			<-release[n-1]
		}
		return 0, fmt.Errorf("dial: %w", context.DeadlineExceeded)
	}
	const callers = 20
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.Do(context.Background(), "k", work)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}()
	}
	require.Eventually(t, func() bool { return joiners(&g, "k") == callers-1 }, 5*time.Second, time.Millisecond)
	close(release[0])
	require.Eventually(t, func() bool { return runs.Load() == 2 && joiners(&g, "k") == callers-2 }, 5*time.Second, time.Millisecond)
	close(release[1])
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(release[2])
		<-done
		t.Fatalf("the joiners of the second run retried again: %d runs", runs.Load())
	}
	assert.Equal(t, int32(2), runs.Load(), "the joiners of the second run do not retry again")
	close(release[2])
}
