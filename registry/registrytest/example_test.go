package registrytest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// A registry that answers as GHCR does, on loopback: push an image into it,
// open a backend on it with an explicit (empty) environment, and count what
// a digest check costs. A cold check fetches one anonymous token and sends
// one HEAD request; later checks reuse the token.
func ExampleNewServer() {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()

	img, err := random.Image(256, 1)
	if err != nil {
		panic(err)
	}
	pushed, err := srv.Push("org/workspace-template-langgraph", "latest", img)
	if err != nil {
		panic(err)
	}

	b, err := backends.Open(srv.Host()+"/org",
		&registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	d, err := b.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
	if err != nil {
		panic(err)
	}
	fmt.Println("digest matches the push:", d == pushed.String())
	c := srv.Counts()
	fmt.Printf("cold check: %d token, %d HEAD, %d in all\n", c.Token, c.Head, c.Total())

	srv.ResetCounts()
	if _, err := b.ManifestDigest(ctx, "workspace-template-langgraph", "latest"); err != nil {
		panic(err)
	}
	c = srv.Counts()
	fmt.Printf("warm check: %d token, %d HEAD, %d in all\n", c.Token, c.Head, c.Total())
	// Output:
	// digest matches the push: true
	// cold check: 1 token, 1 HEAD, 2 in all
	// warm check: 0 token, 1 HEAD, 1 in all
}

// A fake backend drives a watcher without any registry: the test sets the
// digest a tag points at, and each Check is one tick.
func ExampleNewBackend() {
	b := registrytest.NewBackend("registry.example.com/org")
	b.SetDigest("workspace-template-langgraph", "latest", registrytest.Digest("v1"))

	w, err := watch.New(b,
		&watch.Options{Runtimes: []string{"langgraph"}, Handler: func(_ context.Context, img watch.Image, _, _ string) error {
			fmt.Println("refresh", img.Name)
			return nil
		}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	show := func(evs []watch.Event) {
		for _, e := range evs {
			fmt.Println(e.Kind, e.Image.Runtime)
		}
	}

	show(w.Check(ctx)) // first sight
	show(w.Check(ctx)) // nothing moved: no event
	b.SetDigest("workspace-template-langgraph", "latest", registrytest.Digest("v2"))
	show(w.Check(ctx))
	b.SetError("workspace-template-langgraph", "latest", &registry.Error{Kind: registry.ErrUnavailable})
	show(w.Check(ctx))
	fmt.Println("lookups:", b.Calls())
	// Output:
	// seed langgraph
	// refresh registry.example.com/org/workspace-template-langgraph:latest
	// changed langgraph
	// error langgraph
	// lookups: 4
}

// A fake clock moves only when told to, or when code sleeps on it; Sleep
// returns at once and is recorded.
func ExampleClock() {
	clock := registrytest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	clock.Advance(time.Minute)
	ctx := context.Background()
	_ = clock.Sleep(ctx, 5*time.Minute)
	fmt.Println(clock.Now().Format(time.TimeOnly))
	fmt.Println(clock.Slept())

	ended, cancel := context.WithCancel(ctx)
	cancel()
	err := clock.Sleep(ended, time.Hour)
	fmt.Println(errors.Is(err, context.Canceled), clock.Now().Format(time.TimeOnly))
	// Output:
	// 03:10:05
	// [5m0s]
	// true 03:10:05
}
