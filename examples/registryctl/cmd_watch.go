package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/watch"
)

func runWatch(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "watch", "[flags] [RUNTIME...]", `  registryctl watch --once
  registryctl watch --interval 1m langgraph codex
  registryctl watch --platform linux/amd64 | jq -c 'select(.event == "changed")'
`, true)
	interval := fs.Duration("interval", watch.DefaultInterval, "polling interval")
	once := fs.Bool("once", false, "check once and exit")
	platform := fs.String("platform", "", "compare this platform's digest inside each index (os/arch[/variant])")
	if err := parse(fs, args); err != nil {
		return err
	}
	opts := []watch.Option{watch.WithInterval(*interval)}
	if *platform != "" {
		p, err := registry.ParsePlatform(*platform)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		opts = append(opts, watch.WithPlatform(p))
	}
	for _, rt := range fs.Args() {
		if _, err := registry.RuntimeRepository(rt); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	b, err := c.open(e)
	if err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		var imgs []watch.Image
		for _, rt := range fs.Args() {
			img, _ := watch.RuntimeImage(b, rt)
			imgs = append(imgs, img)
		}
		opts = append(opts, watch.WithImages(imgs...))
	}
	var mu sync.Mutex
	enc := json.NewEncoder(e.stdout)
	opts = append(opts, watch.WithCheckTimeout(max(c.timeout, time.Second)), watch.WithEvents(func(ev watch.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(ev)
	}))
	w, err := watch.New(b, opts...)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *once {
		for _, ev := range w.Check(ctx) {
			if ev.Kind == watch.Error {
				return fmt.Errorf("some checks failed (see the error events)")
			}
		}
		return nil
	}
	return w.Run(ctx)
}
