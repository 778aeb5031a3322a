package watch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/registry"
)

// listenFleet is a Fleet whose Listen hands over msgs once and returns;
// the other methods are not reached by listen.
type listenFleet struct {
	msgs   [][2]string // key, digest
	cancel context.CancelFunc
}

func (f *listenFleet) Claim(context.Context, string, time.Duration) (string, bool, error) {
	return "", false, errors.New("not used")
}
func (f *listenFleet) Await(context.Context, string) (string, error) { return "", nil }
func (f *listenFleet) Share(context.Context, string, string, time.Duration) error {
	return nil
}
func (f *listenFleet) Announce(context.Context, string) error { return nil }
func (f *listenFleet) Listen(_ context.Context, notify func(key, digest string)) error {
	for _, m := range f.msgs {
		notify(m[0], m[1])
	}
	f.cancel()
	return nil
}

// A digest shared under another platform's key ("<name>|linux/arm64") is
// not this watcher's to compare: an amd64 watcher queues no check for it,
// or a fleet of mixed platforms would check every image once more per
// host per tick. A push (no digest) and a digest shared for this
// watcher's own key still queue a check.
func TestListenComparesOnlyItsOwnPlatformsDigests(t *testing.T) {
	const name = "reg.example/org/a:latest"
	amd64 := &registry.Platform{OS: "linux", Architecture: "amd64"}
	tests := []struct {
		name     string
		platform *registry.Platform
		key      string
		digest   string
		queued   bool
	}{
		{"another platform's digest", amd64, name + "|linux/arm64", "sha256:arm64", false},
		{"the index digest, to a platform watcher", amd64, name, "sha256:index", false},
		{"a platform's digest, to an index watcher", nil, name + "|linux/amd64", "sha256:amd64", false},
		{"this platform's new digest", amd64, name + "|linux/amd64", "sha256:new", true},
		{"this platform's recorded digest", amd64, name + "|linux/amd64", "sha256:seen", false},
		{"a push", amd64, name, "", true},
		{"the index's new digest, to an index watcher", nil, name, "sha256:new", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &listenFleet{msgs: [][2]string{{tt.key, tt.digest}}, cancel: cancel}
			w, err := New(nil, &Options{
				Images:   []Image{{Name: name, Repo: "a", Tag: "latest"}},
				Platform: tt.platform, Fleet: f,
				Seed: map[string]string{name: "sha256:seen"},
			})
			require.NoError(t, err)
			w.listen(ctx)
			w.mu.Lock()
			defer w.mu.Unlock()
			assert.Equal(t, tt.queued, w.stateOf(name).queued)
		})
	}
}
