package watch_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// records is a slog.Handler that keeps every record it handles.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, rec.Clone())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// find returns the attributes of the first record with message msg.
func (r *records) find(msg string) (slog.Level, map[string]slog.Value, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == msg {
			attrs := map[string]slog.Value{}
			rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
			return rec.Level, attrs, true
		}
	}
	return 0, nil, false
}

// A nil logger discards: the first event logs nothing and panics nowhere.
func TestNilLoggerDiscards(t *testing.T) {
	f := newFake()
	f.set("a", d(1))
	w, err := watch.New(f, &watch.Options{Images: images("a"), Logger: nil})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	assert.NotPanics(t, func() {
		require.Len(t, w.Check(ctx), 1, "a seed event, logged")
		f.fail("a", assert.AnError)
		require.Len(t, w.Check(ctx), 1, "a failure event, logged")
		cancel()
		w.Run(ctx)
	})
}

// Run logs one info line as it starts, naming the interval, the number of
// images and the registry host; Interval reports the interval.
func TestRunLogsItsStart(t *testing.T) {
	for name, tc := range map[string]struct {
		interval time.Duration
		want     time.Duration
	}{
		"default interval": {0, watch.DefaultInterval},
		"set interval":     {time.Minute, time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.set("a", d(1))
			f.set("b", d(2))
			rec := &records{}
			w, err := watch.New(f, &watch.Options{Images: images("a", "b"), Logger: slog.New(rec),
				Clock: registrytest.NewClock(time.Now()), Interval: tc.interval})
			require.NoError(t, err)
			assert.Equal(t, tc.want, w.Interval())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			w.Run(ctx)
			level, attrs, ok := rec.find("image watcher started")
			require.True(t, ok, "the start line is logged")
			assert.Equal(t, slog.LevelInfo, level)
			assert.Equal(t, tc.want, attrs["interval"].Duration())
			assert.Equal(t, int64(2), attrs["images"].Int64())
			assert.Equal(t, "reg.example", attrs["registry"].String())
		})
	}
}
