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

// A nil logger discards, as no logger does: the first event logs nothing
// and panics nowhere.
func TestWithLoggerNilDiscards(t *testing.T) {
	for name, opts := range map[string][]watch.Option{
		"nil logger": {watch.WithLogger(nil)},
		"no logger":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.set("a", d(1))
			w, err := watch.New(f, append([]watch.Option{watch.WithImages(images("a")...)}, opts...)...)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			assert.NotPanics(t, func() {
				require.Len(t, w.Check(ctx), 1, "a seed event, logged")
				f.fail("a", assert.AnError)
				require.Len(t, w.Check(ctx), 1, "a failure event, logged")
				cancel()
				w.Run(ctx)
			})
		})
	}
}

// Run logs one info line as it starts, naming the interval, the number of
// images and the registry host; Interval reports the interval.
func TestRunLogsItsStart(t *testing.T) {
	for name, tc := range map[string]struct {
		opts     []watch.Option
		interval time.Duration
	}{
		"default interval": {nil, watch.DefaultInterval},
		"set interval":     {[]watch.Option{watch.WithInterval(time.Minute)}, time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.set("a", d(1))
			f.set("b", d(2))
			rec := &records{}
			opts := append([]watch.Option{watch.WithImages(images("a", "b")...), watch.WithLogger(slog.New(rec)),
				watch.WithClock(registrytest.NewClock(time.Now()))}, tc.opts...)
			w, err := watch.New(f, opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.interval, w.Interval())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			w.Run(ctx)
			level, attrs, ok := rec.find("image watcher started")
			require.True(t, ok, "the start line is logged")
			assert.Equal(t, slog.LevelInfo, level)
			assert.Equal(t, tc.interval, attrs["interval"].Duration())
			assert.Equal(t, int64(2), attrs["images"].Int64())
			assert.Equal(t, "reg.example", attrs["registry"].String())
		})
	}
}
