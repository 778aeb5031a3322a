package watch

import (
	"context"
	"time"
)

// The checks events ask for ([Receiver]) run under the context of Run, not
// under the delivery's: a delivery is answered at once, and a handler that
// pulls a large image is not cut short by the sender's timeout. While Run
// is not running the images are queued, and checked as soon as it starts.

// enqueue asks for an event check of each of images, which an event that
// arrived at arrived named. An image whose event check is already queued
// and not yet started is not queued twice: that check starts after this
// event, so it sees the push.
func (w *Watcher) enqueue(images []Image, arrived time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, img := range images {
		s := w.stateOf(img.Name)
		if s.queued {
			continue
		}
		s.queued = true
		if w.runCtx == nil {
			s.queuedAt = arrived
			continue
		}
		w.startEventCheck(w.runCtx, img, arrived)
	}
}

// startEventCheck checks img in a goroutine that Run waits for, and
// reports a change it confirms; w.mu must be held and Run running.
func (w *Watcher) startEventCheck(ctx context.Context, img Image, arrived time.Time) {
	w.eventChecks.Add(1)
	go func() {
		defer w.eventChecks.Done()
		events, err := w.CheckNow(ctx, img.Name)
		if err != nil {
			return
		}
		for _, ev := range events {
			if ev.Kind == Changed {
				w.confirmed(img, w.clock.Now().Sub(arrived))
			}
		}
	}()
}

// started makes ctx the context of event checks and starts those queued
// while Run was not running. It reports false when another Run is running.
func (w *Watcher) started(ctx context.Context) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runCtx != nil {
		return false
	}
	w.runCtx = ctx
	for _, img := range w.images {
		if s := w.stateOf(img.Name); s.queued {
			w.startEventCheck(ctx, img, s.queuedAt)
		}
	}
	return true
}

// stopped queues later events until Run runs again, and waits for the
// event checks under way (which ctx's end cuts short).
func (w *Watcher) stopped() {
	w.mu.Lock()
	w.runCtx = nil
	w.mu.Unlock()
	w.eventChecks.Wait()
}
