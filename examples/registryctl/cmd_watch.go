package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/hookserver"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
)

func runWatch(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "watch", "[flags] [RUNTIME...]", `  registryctl watch --once
  registryctl watch --interval 1m langgraph codex
  registryctl watch --platform linux/amd64 | jq -c 'select(.event == "changed")'
  REGISTRYCTL_EVENT_SECRET='Bearer s3cret' registryctl watch --listen :9090 --events registry
  registryctl watch --fleet redis://redis.internal:6379/0 --listen :9090
`, true)
	interval := fs.Duration("interval", watch.DefaultInterval, "polling interval")
	once := fs.Bool("once", false, "check once and exit")
	platform := fs.String("platform", "", "compare this platform's digest inside each index (os/arch[/variant])")
	listen := fs.String("listen", "", "also check an image as soon as a push event for it arrives on this address (POST /)")
	fleetURL := fs.String("fleet", "", "share checks and push events with the watchers of other hosts through Redis: redis://[:password@]host[:port][/db] or rediss://")
	events := fs.String("events", "registry", "the sender of push events: github, gitea, harbor, registry (distribution notifications) or dockerhub; its secret is $REGISTRYCTL_EVENT_SECRET")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *interval <= 0 { // watch.Options reads 0 as the default
		return usageErr("watch: interval %s must be positive", *interval)
	}
	o := &watch.Options{Interval: *interval, Runtimes: fs.Args()}
	if *platform != "" {
		p, err := registry.ParsePlatform(*platform)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		o.Platform = &p
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
	if *fleetURL != "" {
		f, err := redisfleet.Open(*fleetURL)
		if err != nil {
			return fmt.Errorf("%w: --fleet: %v", errUsage, err)
		}
		defer f.Close()
		o.Fleet = f
	}
	var mu sync.Mutex
	enc := json.NewEncoder(e.stdout)
	o.CheckTimeout = max(c.timeout, time.Second)
	o.OnEvent = func(ev watch.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(ev)
	}
	w, err := watch.New(b, o)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *once {
		for _, ev := range w.Check(ctx) {
			if ev.Kind == watch.Failed {
				return fmt.Errorf("some checks failed (see the error events)")
			}
		}
		return nil
	}
	if *listen == "" {
		w.Run(ctx)
		return nil
	}
	source, err := eventSource(*events, e.environ.Get("REGISTRYCTL_EVENT_SECRET"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := hookserver.New(watch.NewReceiver(w, source), e.listenTimeouts)
	fmt.Fprintf(e.stderr, "registryctl: listening for %s push events on %s\n", *events, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	w.Run(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-served
	return nil
}

// eventSource returns the named sender's Source with its secret.
func eventSource(name, secret string) (watch.Source, error) {
	if secret == "" {
		return nil, usageErr("set REGISTRYCTL_EVENT_SECRET to the secret the sender signs or authenticates with")
	}
	switch name {
	case "github":
		return watch.GitHub(secret), nil
	case "gitea":
		return watch.Gitea(secret), nil
	case "harbor":
		return watch.Harbor(secret), nil
	case "registry":
		return watch.Distribution(secret), nil
	case "dockerhub":
		return watch.DockerHub(secret), nil
	}
	return nil, usageErr("--events must be github, gitea, harbor, registry or dockerhub, not " + strconv.Quote(name))
}
