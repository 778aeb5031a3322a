// Package flight shares one run of a piece of work among the concurrent
// callers that need it: a token fetch, a registry probe, a backend's first
// configuration.
//
// The policy is the same everywhere it is used:
//
//   - the work runs in its own goroutine under its own deadline, detached
//     from every caller (the starter's context values are kept, its
//     cancellation is not), so one caller giving up fails no other;
//   - every caller, the one that started the work included, leaves when
//     its own context ends;
//   - a panic in the work ends the run with an error for every caller, and
//     the next call starts afresh.
package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrPanicked is the error every caller of a run gets when its work
// panicked.
var ErrPanicked = errors.New("shared work panicked")

// Group shares runs of work per key. The zero value is ready to use; a
// Group must not be copied after first use.
type Group[K comparable, V any] struct {
	// Timeout bounds each run; zero means one minute.
	Timeout time.Duration

	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	joiners int // callers that joined the run after its starter, under Group.mu
}

// Do returns the result of work for key: it starts a run when none is under
// way for key and waits for the run otherwise. It returns ctx.Err() as soon
// as ctx ends, while the run goes on for the others and its result still
// reaches whatever work itself records (a cache).
//
// A caller that joined a run which then ended with a context error — a
// deadline or cancellation it did not cause: the run started before it
// came — starts one fresh run while its own context lives; the run it
// joined was handed over, not refused. It does so once: a registry that
// keeps timing out costs each caller at most two runs, not one per caller.
func (g *Group[K, V]) Do(ctx context.Context, key K, work func(context.Context) (V, error)) (V, error) {
	retried := false
	for {
		c, started := g.join(ctx, key, work)
		select {
		case <-c.done:
			if !started && !retried && ctx.Err() == nil && (errors.Is(c.err, context.DeadlineExceeded) || errors.Is(c.err, context.Canceled)) {
				retried = true
				continue
			}
			return c.val, c.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
}

// Busy reports whether a run for key is under way.
func (g *Group[K, V]) Busy(key K) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}

// join returns the run under way for key, or starts one and reports so.
func (g *Group[K, V]) join(ctx context.Context, key K, work func(context.Context) (V, error)) (*call[V], bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		c.joiners++
		return c, false
	}
	if g.calls == nil {
		g.calls = map[K]*call[V]{}
	}
	c := &call[V]{done: make(chan struct{})}
	g.calls[key] = c
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	go func() {
		defer cancel()
		defer g.finish(key, c)
		defer func() {
			if r := recover(); r != nil {
				var zero V
				c.val, c.err = zero, fmt.Errorf("%w: %v", ErrPanicked, r)
			}
		}()
		c.val, c.err = work(runCtx)
	}()
	return c, true
}

// finish ends run c of key and releases its callers.
func (g *Group[K, V]) finish(key K, c *call[V]) {
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	g.mu.Unlock()
	close(c.done)
}
