package watch_test

import (
	"context"
	"log/slog"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// Watch every runtime image of the configured registry and refresh the
// containers of an image whose digest moved. A handler error rolls the
// change back, so the next tick tries again.
func ExampleNew() {
	ctx := context.Background()
	b, err := backends.FromEnv(nil)
	if err != nil {
		slog.Error("registry", "error", err)
		return
	}
	w, err := watch.New(b,
		&watch.Options{Logger: slog.Default(), Handler: func(ctx context.Context, img watch.Image, old, new string) error {
			slog.Info("refreshing", "image", img.Name, "from", old, "to", new)
			return nil // pull img.Name at new and recreate its containers
		}})
	if err != nil {
		slog.Error("watch", "error", err)
		return
	}
	w.Run(ctx) // returns when ctx ends
}
