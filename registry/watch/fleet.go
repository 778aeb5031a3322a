package watch

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Fleet lets the watchers of several hosts, each watching the same images
// for its own Docker daemon, share their registry checks and the push
// events any one of them receives. Package redisfleet implements it on
// Redis.
//
// A fleet is a hint, never the authority: a watcher acts only on a digest
// it saw itself, and confirms with its own request any digest from the
// fleet that differs from the one it recorded (one request per change, not
// per tick). Every method must fail fast when the fleet cannot be reached;
// the watcher then works on its own, checking every image itself and
// handling the events it receives, and takes the fleet up again when it
// answers. One Fleet serves one watcher: it tells its own messages from
// the others'.
//
// Keys name an image as its watcher does ("<prefix>/<repo>:<tag>"), with
// "|<platform>" appended when the watcher compares a platform's digest.
type Fleet interface {
	// Claim asks for this period's check of key. It returns the digest
	// another watcher shared while it is fresh (digest not empty); or
	// claimed true when this watcher is to check and Share what it saw;
	// or neither when another watcher holds the claim, whose digest Await
	// waits for. A claim lapses after ttl.
	Claim(ctx context.Context, key string, ttl time.Duration) (digest string, claimed bool, err error)
	// Await waits until another watcher shares a digest of key, and
	// returns it; "" when ctx ends first.
	Await(ctx context.Context, key string) (string, error)
	// Share records digest as what this watcher saw of key, fresh for
	// fresh, and tells the other watchers.
	Share(ctx context.Context, key, digest string, fresh time.Duration) error
	// Announce tells the other watchers that key's image was pushed.
	Announce(ctx context.Context, key string) error
	// Listen calls notify with each digest another watcher shares and each
	// push another watcher announces (digest ""), until ctx ends.
	Listen(ctx context.Context, notify func(key, digest string)) error
}

// Bounds of the fleet's part in a check.
const (
	// fleetOpTimeout bounds one claim, share or announcement, so that an
	// unreachable fleet delays a tick by at most this much.
	fleetOpTimeout = time.Second
	// awaitTimeout bounds the wait for the watcher holding a claim; after
	// it the watcher checks for itself.
	awaitTimeout = 5 * time.Second
	// listenRetry is the pause before listening again after the fleet
	// dropped the subscription.
	listenRetry = 5 * time.Second
)

// plan is what the fleet said of one image before a tick's checks.
type plan struct {
	digest string // a fresh digest another watcher shared
	await  bool   // another watcher holds the claim
	quiet  bool   // the check the fleet asked for: what it sees is shared already
}

// fleetKey names img to the fleet.
func (w *Watcher) fleetKey(img Image) string {
	if w.platform == nil {
		return img.Name
	}
	p := w.platform.OS + "/" + w.platform.Architecture
	if w.platform.Variant != "" {
		p += "/" + w.platform.Variant
	}
	return img.Name + "|" + p
}

// fresh is how long a digest this watcher shares serves the others: short
// enough that this watcher's own next tick, however its jitter falls,
// finds it gone and checks (or takes a fresher one).
func (w *Watcher) fresh() time.Duration {
	return max(time.Duration(float64(w.interval)*(1-w.jitter)*0.9), time.Millisecond) // 0 would be no expiry
}

// claimTTL is how long a claim holds: the check's bound, but no longer
// than the digest it shares stays fresh, so that the next tick, finding
// that digest gone, finds the claim gone too and claims instead of
// waiting for a watcher that checked long ago.
func (w *Watcher) claimTTL() time.Duration {
	return min(w.checkTimeout, w.fresh())
}

// claim asks the fleet about each of the images due (indices into
// w.images), all at once, and returns what it said; the images it returns
// no plan for are checked by this watcher. Without a fleet it returns nil.
func (w *Watcher) claim(ctx context.Context, due []int) map[int]plan {
	if w.fleet == nil {
		return nil
	}
	plans := make(map[int]plan, len(due))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, i := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, fleetOpTimeout)
			defer cancel()
			d, claimed, err := w.fleet.Claim(cctx, w.fleetKey(w.images[i]), w.claimTTL())
			switch {
			case err != nil:
				w.log.Debug("fleet unreachable: checking on our own", "image", w.images[i].Name, "error", err)
			case claimed:
			default:
				mu.Lock()
				plans[i] = plan{digest: d, await: d == ""}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return plans
}

// observe returns the digest of img: the fleet's, when p carries one that
// matches the digest recorded, else this watcher's own, which it then
// shares.
func (w *Watcher) observe(ctx context.Context, img Image, p plan) (string, error) {
	if w.fleet == nil {
		return w.digest(ctx, img)
	}
	key := w.fleetKey(img)
	d := p.digest
	if p.await {
		actx, cancel := context.WithTimeout(ctx, awaitTimeout)
		d, _ = w.fleet.Await(actx, key)
		cancel()
	}
	if d != "" && d == w.seenOf(img) {
		return d, nil // the fleet saw what this watcher recorded: no change
	}
	own, err := w.digest(ctx, img)
	if err == nil && own != d && !p.quiet {
		sctx, cancel := context.WithTimeout(ctx, fleetOpTimeout)
		if err := w.fleet.Share(sctx, key, own, w.fresh()); err != nil {
			w.log.Debug("sharing a digest with the fleet failed", "image", img.Name, "error", err)
		}
		cancel()
	}
	return own, err
}

// announce tells the fleet that img was pushed.
func (w *Watcher) announce(ctx context.Context, img Image) {
	if w.fleet == nil {
		return
	}
	actx, cancel := context.WithTimeout(ctx, fleetOpTimeout)
	defer cancel()
	if err := w.fleet.Announce(actx, img.Name); err != nil {
		w.log.Debug("announcing a push to the fleet failed", "image", img.Name, "error", err)
	}
}

// listenFleet hears the fleet in a goroutine that Run waits for.
func (w *Watcher) listenFleet(ctx context.Context) {
	w.mu.Lock()
	run := w.run
	w.mu.Unlock()
	run.checks.Add(1)
	go func() {
		defer run.checks.Done()
		w.listen(ctx)
	}()
}

// listen hears the fleet until ctx ends: another watcher's push, or a
// digest shared under this watcher's own key that differs from the one
// recorded, queues an event check of the image, which this watcher makes
// itself.
func (w *Watcher) listen(ctx context.Context) {
	for {
		err := w.fleet.Listen(ctx, func(key, digest string) {
			name, _, _ := strings.Cut(key, "|")
			img, ok := w.image(name)
			if !ok || digest != "" && (key != w.fleetKey(img) || digest == w.seenOf(img)) {
				return // a digest under another platform's key is not ours to compare
			}
			w.enqueue([]Image{img}, w.clock.Now(), false)
		})
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("listening to the fleet failed; polling on our own until it answers", "error", err)
		if w.clock.Sleep(ctx, listenRetry) != nil {
			return
		}
	}
}

// seenOf returns the digest recorded for img, "" when none.
func (w *Watcher) seenOf(img Image) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stateOf(img.Name).seen
}
