package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// Handler is called when an image's digest moves from old to new. When it
// returns an error the change is not recorded, and the next tick calls it
// again. Calls run one at a time, whatever the number of checks in flight,
// unless Options.HandlerConcurrency allows more: a handler that removes and
// recreates containers need not guard against itself.
type Handler func(ctx context.Context, img Image, old, new string) error

// Defaults.
const (
	DefaultInterval = 5 * time.Minute
	defaultJitter   = 0.1
	// DefaultHandlerConcurrency is how many handler calls may run at once.
	defaultHandlerConcurrency = 1
	defaultCheckTimeout       = 30 * time.Second
	// MaxBackoffIntervals caps the back-off after repeated failures, in
	// intervals.
	maxBackoffIntervals = 16
)

// Watcher polls images. Create it with [New]; it is safe for concurrent use.
type Watcher struct {
	backend      registry.Backend
	images       []Image
	handler      Handler
	onEvent      func(Event)
	observer     Observer
	interval     time.Duration
	jitter       float64
	concurrency  int
	handlers     chan struct{} // one slot per handler call allowed at once
	checkTimeout time.Duration
	platform     *registry.Platform
	fleet        Fleet
	clock        registry.Clock
	log          *slog.Logger

	mu    sync.Mutex
	state map[string]*imageState
	run   *runState // the running Run's, nil when none: its event checks run under it
}

type imageState struct {
	seen      string
	failures  int
	due       time.Time
	lastCheck time.Time // when the last check started
	current   *flight   // the check under way, if any
	next      *flight   // the event-triggered check queued behind it
	queued    bool      // an event asked for a check that has not started
	queuedAt  time.Time // when that event arrived
	announce  bool      // an event came to this watcher before Run: tell the fleet when it starts
	loud      bool      // the next event check shares what it sees (an event came to this watcher)
}

// flight is one check of one image that callers can wait for.
type flight struct {
	done   chan struct{}
	events []Event
	err    error
}

// Options configures a Watcher. The zero value, and a nil *Options, watch
// the image of every runtime in registry.DefaultRuntimes every 5 minutes
// and call no handler; every field has a default, named in its comment.
type Options struct {
	// Images are the images to watch (default: the image of each of
	// Runtimes).
	Images []Image
	// Runtimes names the application's runtimes whose images
	// ("<prefix>/workspace-template-<runtime>:latest") are watched when
	// Images is empty (default: registry.DefaultRuntimes). An invalid
	// runtime name makes [New] fail.
	Runtimes []string
	// Handler is called when a digest moves (default: none).
	Handler Handler
	// OnEvent receives every event (seed, changed, error), for logging or
	// metrics. It must not block for long.
	OnEvent func(Event)
	// Observer learns what the watcher does, for metrics.
	Observer Observer
	// Interval is the polling interval (default [DefaultInterval]).
	Interval time.Duration
	// Jitter spreads ticks by ±Jitter of the interval so that many watchers
	// do not poll in step (default 0.1; negative: no jitter). It must be
	// below 1.
	Jitter float64
	// Concurrency bounds the checks in flight (default 0: every check of a
	// tick at once, so that on a real network a tick of nine images costs
	// one round trip, not waves of them). It does not change how many
	// handler calls run at once.
	Concurrency int
	// HandlerConcurrency is how many handler calls may run at once
	// (default 1).
	HandlerConcurrency int
	// CheckTimeout bounds each check (default 30 s).
	CheckTimeout time.Duration
	// Platform, when set, makes the watcher compare the digest of that
	// platform's manifest inside each index instead of the index digest.
	Platform *registry.Platform
	// Seed records the digests already running, keyed by image name, so
	// that a change missed while the watcher was down still calls the
	// handler.
	Seed map[string]string
	// Clock replaces the system clock (for tests).
	Clock registry.Clock
	// Logger receives the start of [Watcher.Run] and events, at info (seed,
	// changed) and warn (error). nil discards everything.
	Logger *slog.Logger
	// Fleet, when set, shares this watcher's checks and push events with
	// the watchers of other hosts (see [Fleet]; package redisfleet).
	Fleet Fleet
}

// Backend returns the backend whose images the watcher checks.
func (w *Watcher) Backend() registry.Backend { return w.backend }

// New returns a watcher of b's images, by default the image of every runtime
// in registry.DefaultRuntimes. It does no I/O: b may be a backend whose
// registry is not reachable yet, and the watcher catches up when it is.
func New(b registry.Backend, o *Options) (*Watcher, error) {
	if o == nil {
		o = &Options{}
	}
	w := &Watcher{
		backend: b, images: slices.Clone(o.Images), handler: o.Handler, onEvent: o.OnEvent,
		observer: o.Observer, interval: cmp.Or(o.Interval, DefaultInterval),
		jitter: o.Jitter, concurrency: o.Concurrency,
		checkTimeout: cmp.Or(o.CheckTimeout, defaultCheckTimeout),
		clock:        o.Clock, log: o.Logger, fleet: o.Fleet, state: map[string]*imageState{},
	}
	switch {
	case o.Jitter == 0:
		w.jitter = defaultJitter
	case o.Jitter < 0:
		w.jitter = 0
	}
	if o.Platform != nil {
		p := *o.Platform
		w.platform = &p
	}
	if w.clock == nil {
		w.clock = (&registry.Options{}).Now()
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	for name, d := range o.Seed {
		w.stateOf(name).seen = d
	}
	if len(w.images) == 0 {
		imgs, err := runtimeImages(b, o.Runtimes)
		if err != nil {
			return nil, fmt.Errorf("watch: %w", err)
		}
		w.images = imgs
	}
	switch {
	case o.HandlerConcurrency < 0:
		return nil, fmt.Errorf("watch: handler concurrency %d must be at least 1 (0 means 1)", o.HandlerConcurrency)
	case w.interval < 0:
		return nil, fmt.Errorf("watch: interval %s must be positive", w.interval)
	case w.checkTimeout < 0:
		// Every check would fail at once, and a fleet's claim of -1 ns
		// would be Redis's KEEPTTL: held for ever.
		return nil, fmt.Errorf("watch: check timeout %s must be positive (0 means %s)", w.checkTimeout, defaultCheckTimeout)
	case w.jitter >= 1:
		return nil, fmt.Errorf("watch: jitter %v must be below 1", w.jitter)
	case w.concurrency < 0:
		return nil, fmt.Errorf("watch: concurrency %d must be 0 (every check at once) or more", w.concurrency)
	}
	w.handlers = make(chan struct{}, max(o.HandlerConcurrency, 1))
	return w, nil
}

// Run checks every image now and then every interval (with jitter), and
// returns when ctx ends; failures are reported as events and never stop it.
// It logs one info line as it starts. The checks that events ask for
// ([Receiver]) run under ctx, those queued before Run started included.
// It starts no goroutine that outlives it: it waits for the event checks
// under way before it returns. One Run runs at a time; a second one while
// the first runs returns at once.
func (w *Watcher) Run(ctx context.Context) {
	if !w.started(ctx) {
		w.log.Warn("image watcher already running: this Run returns")
		return
	}
	defer w.stopped()
	w.log.Info("image watcher started", "interval", w.interval, "images", len(w.images), "registry", w.backend.Host(), "fleet", w.fleet != nil)
	if w.fleet != nil {
		w.listenFleet(ctx)
	}
	for {
		w.Check(ctx)
		if err := w.clock.Sleep(ctx, w.nextTick()); err != nil {
			return
		}
	}
}

// Interval returns the polling interval (Options.Interval, default
// [DefaultInterval]); each tick is spread around it by the jitter.
func (w *Watcher) Interval() time.Duration { return w.interval }

// Check runs one tick: every image that is due is checked, at most
// concurrency at a time (all at once by default). Before the checks, a
// backend (Backend.PrepareTokens) fetches in one request, where its token
// service allows it, the tokens the tick's images lack. It returns the events of the tick, in
// image order.
func (w *Watcher) Check(ctx context.Context) []Event {
	events := make([][]Event, len(w.images))
	limit := w.concurrency
	if limit == 0 {
		limit = len(w.images)
	}
	due := w.dueImages()
	plans := w.claim(ctx, due)
	w.prepareTokens(ctx, w.own(due, plans))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, i := range due {
		img := w.images[i]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return flatten(events)
		}
		f, ok := w.begin(img)
		if !ok {
			<-sem
			continue // an event's check of this image is under way
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			events[i] = w.check(ctx, img, plans[i])
			w.end(img, f, events[i], nil)
		}()
	}
	wg.Wait()
	return flatten(events)
}

// dueImages returns the indices of the images due for a check.
func (w *Watcher) dueImages() []int {
	var due []int
	for i, img := range w.images {
		if w.due(img) {
			due = append(due, i)
		}
	}
	return due
}

// prepareTokens asks the backend for the tokens of the images due (indices
// into w.images), in one request where the registry allows it. A failure is
// left to the checks, which fetch their own tokens and report their own
// errors.
func (w *Watcher) prepareTokens(ctx context.Context, due []int) {
	if len(due) < 2 {
		return
	}
	repos := make([]string, len(due))
	for j, i := range due {
		repos[j] = w.images[i].Repo
	}
	cctx, cancel := context.WithTimeout(ctx, w.checkTimeout)
	defer cancel()
	if err := w.backend.PrepareTokens(cctx, repos); err != nil {
		w.log.Debug("preparing the tick's tokens failed; each check fetches its own", "error", err)
	}
}

// own returns the images due (indices into w.images) that this watcher
// checks itself: those the fleet said nothing of, and those it has not
// seen yet, whose digest it confirms whatever the fleet says.
func (w *Watcher) own(due []int, plans map[int]plan) []int {
	if plans == nil {
		return due
	}
	var out []int
	for _, i := range due {
		if _, ok := plans[i]; !ok || w.seenOf(w.images[i]) == "" {
			out = append(out, i)
		}
	}
	return out
}

// Seen returns the digest recorded for each image seen so far.
func (w *Watcher) Seen() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.state))
	for name, s := range w.state {
		if s.seen != "" {
			out[name] = s.seen
		}
	}
	return out
}

// check observes one image and returns its events.
func (w *Watcher) check(ctx context.Context, img Image, p plan) []Event {
	start := w.clock.Now()
	cctx, cancel := context.WithTimeout(ctx, w.checkTimeout)
	digest, err := w.observe(cctx, img, p)
	cancel()
	now := w.clock.Now()
	if err != nil {
		if ctx.Err() != nil {
			return nil // shutting down: not the registry's fault
		}
		w.failed(img, now, err)
		w.observeCheck(img, Failed, now.Sub(start), err)
		return w.emit(Event{Time: now, Image: img, Kind: Failed, Err: err})
	}
	took := now.Sub(start)

	w.mu.Lock()
	s := w.stateOf(img.Name)
	s.failures, s.due = 0, time.Time{}
	old := s.seen
	if old == "" {
		s.seen = digest
	}
	w.mu.Unlock()

	switch {
	case old == "":
		w.observeCheck(img, Seed, took, nil)
		return w.emit(Event{Time: now, Image: img, Kind: Seed, New: digest})
	case old == digest:
		w.observeCheck(img, "", took, nil)
		return nil
	}
	if w.handler != nil {
		if err := w.callHandler(ctx, img, old, digest); err != nil {
			// Roll back: the change stays unrecorded so the next tick retries.
			err = fmt.Errorf("refresh: %w", err)
			w.observeCheck(img, Failed, took, err)
			return w.emit(Event{Time: now, Image: img, Kind: Failed, Old: old, New: digest, Err: err})
		}
	}
	w.mu.Lock()
	if s.seen == old {
		s.seen = digest
	}
	w.mu.Unlock()
	w.observeCheck(img, Changed, took, nil)
	return w.emit(Event{Time: now, Image: img, Kind: Changed, Old: old, New: digest})
}

// callHandler runs the handler once a handler slot is free.
func (w *Watcher) callHandler(ctx context.Context, img Image, old, digest string) error {
	select {
	case w.handlers <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.handlers }()
	return w.handler(ctx, img, old, digest)
}

func (w *Watcher) digest(ctx context.Context, img Image) (string, error) {
	if w.platform != nil {
		return w.backend.PlatformDigest(ctx, img.Repo, img.Tag, *w.platform)
	}
	return w.backend.ManifestDigest(ctx, img.Repo, img.Tag)
}

// failed records a failure and when to try again: after the registry's
// Retry-After; otherwise the next tick after a first failure, and after an
// interval doubled per further consecutive failure (at most
// MaxBackoffIntervals intervals).
func (w *Watcher) failed(img Image, now time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stateOf(img.Name)
	s.failures++
	var wait time.Duration
	if e := (*registry.Error)(nil); errors.As(err, &e) && e.RetryAfter > 0 {
		wait = e.RetryAfter
	} else if s.failures > 1 {
		wait = min(w.interval<<min(s.failures-2, 4), w.interval*maxBackoffIntervals)
	}
	s.due = now.Add(wait)
}

func (w *Watcher) due(img Image) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stateOf(img.Name)
	return s.due.IsZero() || !w.clock.Now().Before(s.due)
}

// stateOf returns the state of an image, creating it; w.mu must be held
// (or w not yet shared).
func (w *Watcher) stateOf(name string) *imageState {
	s := w.state[name]
	if s == nil {
		s = &imageState{}
		w.state[name] = s
	}
	return s
}

func (w *Watcher) emit(e Event) []Event {
	switch e.Kind {
	case Failed:
		w.log.Warn("image check failed", "image", e.Image.Name, "old", e.Old, "new", e.New, "error", e.Err)
	default:
		w.log.Info("image "+string(e.Kind), "image", e.Image.Name, "old", e.Old, "new", e.New)
	}
	if w.onEvent != nil {
		w.onEvent(e)
	}
	return []Event{e}
}

func (w *Watcher) nextTick() time.Duration {
	if w.jitter == 0 {
		return w.interval
	}
	spread := float64(w.interval) * w.jitter
	return w.interval + time.Duration((rand.Float64()*2-1)*spread)
}

func flatten(events [][]Event) []Event {
	var out []Event
	for _, e := range events {
		out = append(out, e...)
	}
	return out
}
