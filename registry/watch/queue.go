package watch

import (
	"context"
	"sync"
	"time"
)

// The checks events ask for ([Receiver]) run under the context of Run, not
// under the delivery's: a delivery is answered at once, and a handler that
// pulls a large image is not cut short by the sender's timeout. While Run
// is not running the images are queued, and checked as soon as it starts.

// enqueue asks for an event check of each of images, which an event that
// arrived at arrived named; own says the event came to this watcher, not
// from the fleet: the fleet is told at once (when Run starts, if it is not
// running), and the check shares what it sees. An image whose event check
// is already queued and not yet started is not queued twice: that check
// starts after this event, so it sees the push.
func (w *Watcher) enqueue(images []Image, arrived time.Time, own bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, img := range images {
		s := w.stateOf(img.Name)
		if own {
			s.loud = true
			if w.run != nil {
				w.announceSoon(w.run, img)
			} else {
				s.announce = true
			}
		}
		if s.queued {
			continue
		}
		s.queued = true
		if w.run == nil {
			s.queuedAt = arrived
			continue
		}
		w.startEventCheck(w.run, img, arrived)
	}
}

// announceSoon tells the fleet that img was pushed, in a goroutine that
// Run waits for; w.mu must be held and Run running.
func (w *Watcher) announceSoon(run *runState, img Image) {
	if w.fleet == nil {
		return
	}
	run.checks.Add(1)
	go func() {
		defer run.checks.Done()
		w.announce(run.ctx, img)
	}()
}

// startEventCheck checks img in a goroutine that Run waits for, and
// reports a change it confirms; w.mu must be held and Run running.
func (w *Watcher) startEventCheck(run *runState, img Image, arrived time.Time) {
	run.checks.Add(1)
	go func() {
		defer run.checks.Done()
		events, err := w.checkNow(run.ctx, img.Name, false)
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
	if w.run != nil {
		return false
	}
	w.run = &runState{ctx: ctx}
	for _, img := range w.images {
		s := w.stateOf(img.Name)
		if s.announce {
			w.announceSoon(w.run, img)
			s.announce = false
		}
		if s.queued {
			w.startEventCheck(w.run, img, s.queuedAt)
		}
	}
	return true
}

// stopped queues later events until Run runs again, and waits for the
// event checks under way (which ctx's end cuts short).
func (w *Watcher) stopped() {
	w.mu.Lock()
	run := w.run
	w.run = nil
	w.mu.Unlock()
	if run != nil {
		run.checks.Wait() // this Run's checks only: a later Run tracks its own
	}
}

// runState is one Run's: the context its event checks run under, and the
// checks it waits for before it returns.
type runState struct {
	ctx    context.Context
	checks sync.WaitGroup
}
