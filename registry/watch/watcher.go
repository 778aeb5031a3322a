package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/molecule-ai/registrykit/registry"
)

// Handler is called when an image's digest moves from old to new. When it
// returns an error the change is not recorded, and the next tick calls it
// again. Calls run one at a time, whatever the number of checks in flight,
// unless [WithHandlerConcurrency] allows more: a handler that removes and
// recreates containers need not guard against itself.
type Handler func(ctx context.Context, img Image, old, new string) error

// Defaults.
const (
	DefaultInterval = 5 * time.Minute
	defaultJitter   = 0.1
	// DefaultConcurrency, 0, runs every check of a tick at once: on a real
	// network a tick of nine images then costs one round trip, not three
	// waves of them.
	defaultConcurrency = 0
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
	runtimes     []string
	checkTimeout time.Duration
	platform     *registry.Platform
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
}

// flight is one check of one image that callers can wait for.
type flight struct {
	done   chan struct{}
	events []Event
	err    error
}

// Option configures a Watcher.
type Option func(*Watcher)

// WithImages watches imgs instead of the runtime images.
func WithImages(imgs ...Image) Option {
	return func(w *Watcher) { w.images = append([]Image{}, imgs...) }
}

// WithRuntimes watches the image of each of the application's runtimes
// ("<prefix>/workspace-template-<runtime>:latest") instead of
// registry.DefaultRuntimes. An invalid runtime name makes [New] fail.
func WithRuntimes(runtimes ...string) Option {
	return func(w *Watcher) { w.runtimes = append([]string{}, runtimes...) }
}

// WithHandler sets the function called when a digest moves.
func WithHandler(h Handler) Option { return func(w *Watcher) { w.handler = h } }

// WithEvents sets a function that receives every event (seed, changed,
// error), for logging or metrics. It must not block for long.
func WithEvents(f func(Event)) Option { return func(w *Watcher) { w.onEvent = f } }

// WithInterval sets the polling interval (default 5 minutes).
func WithInterval(d time.Duration) Option { return func(w *Watcher) { w.interval = d } }

// WithJitter spreads ticks by ±f of the interval (default 0.1) so that many
// watchers do not poll in step.
func WithJitter(f float64) Option { return func(w *Watcher) { w.jitter = f } }

// WithConcurrency bounds the checks in flight; 0 (the default) runs every
// check of a tick at once. It does not change how many handler calls run
// at once.
func WithConcurrency(n int) Option { return func(w *Watcher) { w.concurrency = n } }

// WithHandlerConcurrency lets up to n handler calls run at once (default 1).
func WithHandlerConcurrency(n int) Option {
	return func(w *Watcher) {
		if n >= 1 {
			w.handlers = make(chan struct{}, n)
		} else {
			w.handlers = nil // rejected by New
		}
	}
}

// WithCheckTimeout bounds each check (default 30 s).
func WithCheckTimeout(d time.Duration) Option { return func(w *Watcher) { w.checkTimeout = d } }

// WithPlatform compares the digest of platform's manifest inside each index
// instead of the index digest.
func WithPlatform(p registry.Platform) Option { return func(w *Watcher) { w.platform = &p } }

// WithSeed records the digests already running, keyed by image name, so that
// a change missed while the watcher was down still calls the handler.
func WithSeed(seen map[string]string) Option {
	return func(w *Watcher) {
		for name, d := range seen {
			w.stateOf(name).seen = d
		}
	}
}

// WithClock replaces the system clock (for tests).
func WithClock(c registry.Clock) Option { return func(w *Watcher) { w.clock = c } }

// Backend returns the backend whose images the watcher checks.
func (w *Watcher) Backend() registry.Backend { return w.backend }

// WithLogger sets the logger; the start of [Watcher.Run] and events are
// logged at info (seed, changed) and warn (error). A nil logger discards
// everything, as when the option is not given.
func WithLogger(l *slog.Logger) Option {
	return func(w *Watcher) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		w.log = l
	}
}

// New returns a watcher of b's images, by default the image of every runtime
// in registry.DefaultRuntimes. It does no I/O: b may be a backend whose
// registry is not reachable yet, and the watcher catches up when it is.
func New(b registry.Backend, opts ...Option) (*Watcher, error) {
	w := &Watcher{
		backend: b, interval: DefaultInterval, jitter: defaultJitter,
		concurrency: defaultConcurrency, checkTimeout: defaultCheckTimeout,
		handlers: make(chan struct{}, defaultHandlerConcurrency),
		clock:    registry.NewOptions().Now(), log: slog.New(slog.DiscardHandler),
		state: map[string]*imageState{},
	}
	for _, opt := range opts {
		opt(w)
	}
	if w.images == nil {
		imgs, err := RuntimeImages(b, w.runtimes...)
		if err != nil {
			return nil, fmt.Errorf("watch: %w", err)
		}
		w.images = imgs
	}
	switch {
	case w.handlers == nil:
		return nil, errors.New("watch: handler concurrency must be at least 1")
	case len(w.images) == 0:
		return nil, errors.New("watch: no images to watch")
	case w.interval <= 0:
		return nil, fmt.Errorf("watch: interval %s must be positive", w.interval)
	case w.jitter < 0 || w.jitter >= 1:
		return nil, fmt.Errorf("watch: jitter %v must be in [0, 1)", w.jitter)
	case w.concurrency < 0:
		return nil, fmt.Errorf("watch: concurrency %d must be 0 (every check at once) or more", w.concurrency)
	}
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
	w.log.Info("image watcher started", "interval", w.interval, "images", len(w.images), "registry", w.backend.Host())
	for {
		w.Check(ctx)
		if err := w.clock.Sleep(ctx, w.nextTick()); err != nil {
			return
		}
	}
}

// Interval returns the polling interval ([WithInterval], default
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
	w.prepareTokens(ctx, due)
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
			events[i] = w.check(ctx, img)
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
func (w *Watcher) check(ctx context.Context, img Image) []Event {
	start := w.clock.Now()
	cctx, cancel := context.WithTimeout(ctx, w.checkTimeout)
	digest, err := w.digest(cctx, img)
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
	if ra, ok := registry.RetryAfter(err); ok {
		wait = ra
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
