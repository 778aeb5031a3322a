// Package redisfleet is a watch.Fleet on Redis: the watchers of several
// hosts share one registry check per image per tick, and a push event any
// host receives reaches every host.
//
// Each watcher takes its own Fleet (one Redis client may serve several).
// For an image and a tick, the first watcher to ask claims the check (SET
// NX with an expiry), checks, and shares the digest it saw (SET with an
// expiry, and PUBLISH); the others take that digest while it is fresh
// instead of asking the registry. Pushes and shared digests are published
// on one channel that every watcher subscribes to.
//
// Redis holds image names and digests, never a credential. It is a hint:
// a watcher confirms with its own request any digest that would make it
// act, so whoever can write to Redis cannot make one act on a digest the
// registry does not serve, and can make watchers check more often only up
// to once per image per second each. Redis is trusted for liveness: by
// keeping the digest watchers already have in the shared key, a writer can
// keep them from checking for themselves, so that a change is noticed only
// through a push event or once Redis stops answering. Only the watchers
// should write to it. With Redis unreachable each watcher checks
// every image itself and handles the events it receives; the subscription
// reconnects on its own when Redis returns.
package redisfleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/molecule-ai/registrykit/registry/watch"
)

// Defaults.
const (
	defaultNamespace = "registrykit:watch"
	defaultPoll      = 25 * time.Millisecond
)

// Fleet is one watcher's part of a fleet on Redis. Set its fields before
// handing it to watch.Options; it is then safe for concurrent use.
type Fleet struct {
	// Namespace prefixes every key and the channel (default
	// "registrykit:watch"). Fleets of one namespace form one fleet.
	Namespace string
	// Logger receives the messages that could not be read (debug). nil
	// discards them.
	Logger *slog.Logger
	// Poll is how often Await looks for the digest the claiming watcher
	// shares (default 25 ms).
	Poll time.Duration

	client   redis.UniversalClient
	id       string
	owned    bool // Open made the client: Close closes it
	commands atomic.Int64
}

var _ watch.Fleet = (*Fleet)(nil)

// New returns a watcher's Fleet on client, which stays the caller's to
// close.
func New(client redis.UniversalClient) *Fleet {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Fleet{client: client, id: hex.EncodeToString(id[:])}
}

// Open returns a Fleet on the Redis server that rawURL names:
// redis://[[user]:password@]host[:port][/db] or rediss:// for TLS, with
// the timeouts of a hint (a one-second dial, read and write, one retry) so
// that an unreachable Redis delays a tick by at most a second. An error
// never repeats the URL's password. Close closes the client.
func Open(rawURL string) (*Fleet, error) {
	const fix = "write redis://[:password@]host[:port][/db], or rediss:// for TLS"
	u, err := url.Parse(rawURL)
	if err != nil { // the error would quote the URL, password and all
		return nil, fmt.Errorf("redis fleet URL: does not parse as a URL; %s", fix)
	}
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		msg := err.Error()
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
		return nil, fmt.Errorf("redis fleet URL %s: %s; %s", u.Redacted(), msg, fix)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, time.Second, time.Second
	o.ContextTimeoutEnabled, o.MaxRetries = true, 1
	f := New(redis.NewClient(o))
	f.owned = true
	return f, nil
}

// Close closes the client if Open made it.
func (f *Fleet) Close() error {
	if f.owned {
		return f.client.Close()
	}
	return nil
}

// Commands returns how many Redis commands this Fleet has sent.
func (f *Fleet) Commands() int64 { return f.commands.Load() }

func (f *Fleet) ns() string {
	if f.Namespace != "" {
		return f.Namespace
	}
	return defaultNamespace
}

func (f *Fleet) seenKey(key string) string  { return f.ns() + ":seen:" + key }
func (f *Fleet) claimKey(key string) string { return f.ns() + ":claim:" + key }
func (f *Fleet) channel() string            { return f.ns() + ":events" }

// message is what the channel carries: a shared digest, or a push (D "").
type message struct {
	Key    string `json:"k"`
	Digest string `json:"d,omitempty"`
	By     string `json:"by"`
}

// Claim implements watch.Fleet: GET of the shared digest, then, when there
// is none, SET NX of the claim.
func (f *Fleet) Claim(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	f.commands.Add(1)
	d, err := f.client.Get(ctx, f.seenKey(key)).Result()
	switch {
	case err == nil:
		return d, false, nil
	case !errors.Is(err, redis.Nil):
		return "", false, err
	}
	f.commands.Add(1)
	claimed, err := f.client.SetNX(ctx, f.claimKey(key), f.id, ttl).Result()
	return "", claimed, err
}

// Await implements watch.Fleet by looking for the shared digest every
// Poll.
func (f *Fleet) Await(ctx context.Context, key string) (string, error) {
	poll := f.Poll
	if poll <= 0 {
		poll = defaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		f.commands.Add(1)
		d, err := f.client.Get(ctx, f.seenKey(key)).Result()
		if err == nil {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return "", nil
		case <-t.C:
		}
	}
}

// Share implements watch.Fleet: SET of the digest with its freshness and
// PUBLISH, in one round trip.
func (f *Fleet) Share(ctx context.Context, key, digest string, fresh time.Duration) error {
	msg, err := json.Marshal(message{Key: key, Digest: digest, By: f.id})
	if err != nil {
		return err
	}
	f.commands.Add(2)
	_, err = f.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, f.seenKey(key), digest, fresh)
		p.Publish(ctx, f.channel(), msg)
		return nil
	})
	return err
}

// Announce implements watch.Fleet with one PUBLISH.
func (f *Fleet) Announce(ctx context.Context, key string) error {
	msg, err := json.Marshal(message{Key: key, By: f.id})
	if err != nil {
		return err
	}
	f.commands.Add(1)
	return f.client.Publish(ctx, f.channel(), msg).Err()
}

// Listen implements watch.Fleet: it subscribes to the fleet's channel and
// passes on the other watchers' messages until ctx ends. The subscription
// reconnects on its own while Redis is away.
func (f *Fleet) Listen(ctx context.Context, notify func(key, digest string)) error {
	f.commands.Add(1)
	ps := f.client.Subscribe(ctx, f.channel())
	defer ps.Close()
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return errors.New("redis fleet: subscription closed")
			}
			var msg message
			if err := json.Unmarshal([]byte(m.Payload), &msg); err != nil || msg.Key == "" {
				f.log().Debug("redis fleet: unreadable message ignored", "channel", m.Channel)
				continue
			}
			if msg.By != f.id {
				notify(msg.Key, msg.Digest)
			}
		}
	}
}

func (f *Fleet) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}
