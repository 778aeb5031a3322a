package watch

import (
	"context"
	"errors"
	"time"
)

// minEventInterval is the least time between two checks of one image that
// events trigger: a flood of events for an image costs at most one check
// per second, and duplicate deliveries coalesce into one check.
const minEventInterval = time.Second

// ErrNotWatched reports an image the watcher does not watch; an event for
// it costs nothing.
var ErrNotWatched = errors.New("image not watched")

// CheckNow checks the watched image named name (its "<prefix>/<repo>:<tag>")
// now, because an event said it was pushed, and returns the check's events.
// The event is only a hint: the watcher confirms with its own request, and
// reports a change only if the digest it sees moved.
//
// At most one check per image runs at a time, and a check that events
// trigger starts no sooner than minEventInterval after the image's last
// one: callers arriving while a check is queued share it. A tick's check
// under way is waited for and followed by a fresh one, since it may have
// started before the push.
//
// With a fleet, the other watchers hear of the push and check the image
// themselves.
func (w *Watcher) CheckNow(ctx context.Context, name string) ([]Event, error) {
	return w.checkNow(ctx, name, true)
}

// checkNow is CheckNow. own says the event came to this watcher, not from
// the fleet: the fleet is then told of the push, and the check shares
// what it sees.
func (w *Watcher) checkNow(ctx context.Context, name string, own bool) ([]Event, error) {
	img, ok := w.image(name)
	if !ok {
		return nil, ErrNotWatched
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if own {
		w.announce(ctx, img)
	}
	w.mu.Lock()
	s := w.stateOf(img.Name)
	s.loud = s.loud || own
	if f := s.next; f != nil {
		w.mu.Unlock()
		events, err := wait(ctx, f)
		if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return w.checkNow(ctx, name, false) // the caller that ran it gave up; this one still wants the check
		}
		return events, err
	}
	f := &flight{done: make(chan struct{})}
	s.next = f
	cur := s.current
	w.mu.Unlock()

	if err := w.waitTurn(ctx, s, f, cur); err != nil {
		w.mu.Lock()
		if s.next == f {
			s.next = nil
		}
		w.mu.Unlock()
		f.err = err
		close(f.done)
		return nil, err
	}
	w.mu.Lock()
	loud := s.loud
	s.loud = false
	w.mu.Unlock()
	events := w.check(ctx, img, plan{quiet: !loud})
	err := ctx.Err() // a check cut short by ctx did not run
	w.end(img, f, events, err)
	return events, err
}

// waitTurn waits until the queued check f of state s may start: after cur
// (the check under way when f was queued), after any tick that began
// meanwhile, and no sooner than minEventInterval after the last check. It
// then marks f as the check under way.
func (w *Watcher) waitTurn(ctx context.Context, s *imageState, f, cur *flight) error {
	if cur != nil {
		select {
		case <-cur.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		w.mu.Lock()
		wait := s.lastCheck.Add(minEventInterval).Sub(w.clock.Now())
		if wait <= 0 && s.current == nil {
			s.next, s.current, s.queued = nil, f, false // this check sees every push queued so far
			s.lastCheck = w.clock.Now()
			w.mu.Unlock()
			return nil
		}
		other := s.current
		w.mu.Unlock()
		if other != nil { // a tick began meanwhile: let it finish
			select {
			case <-other.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if err := w.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// wait waits for f and returns its outcome.
func wait(ctx context.Context, f *flight) ([]Event, error) {
	select {
	case <-f.done:
		return f.events, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin marks a tick's check of img as under way; it reports false when a
// check of img is already under way or queued, an event's included.
func (w *Watcher) begin(img Image) (*flight, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stateOf(img.Name)
	if s.current != nil || s.next != nil || s.queued && w.run != nil {
		return nil, false
	}
	f := &flight{done: make(chan struct{})}
	s.current, s.lastCheck = f, w.clock.Now()
	return f, true
}

// end records the outcome of f and releases its waiters.
func (w *Watcher) end(img Image, f *flight, events []Event, err error) {
	w.mu.Lock()
	s := w.stateOf(img.Name)
	if s.current == f {
		s.current = nil
	}
	w.mu.Unlock()
	f.events, f.err = events, err
	close(f.done)
}

// image returns the watched image named name.
func (w *Watcher) image(name string) (Image, bool) {
	for _, img := range w.images {
		if img.Name == name {
			return img, true
		}
	}
	return Image{}, false
}

// Images returns the images the watcher watches.
func (w *Watcher) Images() []Image { return append([]Image(nil), w.images...) }
