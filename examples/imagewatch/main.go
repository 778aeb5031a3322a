// Command imagewatch keeps workspace containers on the latest build of
// their runtime image. It polls the manifest digest of each runtime image
// in the registry MOLECULE_IMAGE_REGISTRY configures and, when one moves,
// pulls the new build through the Docker Engine (by digest, with the
// backend's credentials) and recreates the containers running that image.
// It starts from the digests the Engine already has, so a build published
// while it was down is picked up on the first check.
//
// It does nothing unless IMAGE_AUTO_REFRESH=true. Configuration:
//
//	-interval  / IMAGE_WATCH_INTERVAL   polling interval (default 5m)
//	-runtimes  / IMAGE_WATCH_RUNTIMES   comma-separated runtimes (default all)
//	-platform  / IMAGE_WATCH_PLATFORM   compare one platform's digest, e.g. linux/amd64
//	-listen    / IMAGE_WATCH_LISTEN     address for push events, /metrics and /healthz (e.g. :9090)
//	-fleet     / IMAGE_WATCH_FLEET      share checks and push events with the other hosts'
//	                                    watchers through Redis (redis://[:password@]host[:port][/db], rediss://)
//
// Push events make a new build visible in seconds instead of half an
// interval on average; polling stays as the safety net. Each sender is
// enabled by its secret (see the README's "Push events" section):
//
//	IMAGE_WATCH_GITHUB_SECRET     GitHub package webhooks     POST /hooks/github
//	IMAGE_WATCH_GITEA_SECRET      Gitea package webhooks      POST /hooks/gitea
//	IMAGE_WATCH_HARBOR_AUTH       Harbor webhooks' auth header POST /hooks/harbor
//	IMAGE_WATCH_REGISTRY_AUTH     distribution notifications' Authorization value  POST /hooks/registry
//	IMAGE_WATCH_DOCKERHUB_SECRET  Docker Hub webhooks         POST /hooks/dockerhub/<secret>
//	IMAGE_WATCH_SQS_QUEUE_URL     ECR push events via EventBridge and SQS (AWS SDK default chain)
//
// The Engine is reached as the docker CLI would (DOCKER_HOST).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/moby/moby/client"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/examples/internal/engine"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/ecrevents"
	"github.com/molecule-ai/registrykit/registry/watch/redisfleet"
	"golang.org/x/sync/errgroup"
)

// config is what the flags and environment say.
type config struct {
	enabled  bool
	interval time.Duration
	runtimes []string
	platform *registry.Platform
	listen   string
	hooks    hooks
	sqsQueue string
	fleet    string
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseConfig(os.Args[1:], os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagewatch:", err)
		os.Exit(2)
	}
	if !cfg.enabled {
		log.Info("image auto-refresh is disabled; set IMAGE_AUTO_REFRESH=true to enable it")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "imagewatch:", err)
		os.Exit(1)
	}
}

func parseConfig(args []string, getenv func(string) (string, bool)) (config, error) {
	env := func(k, def string) string {
		if v, ok := getenv(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	fs := flag.NewFlagSet("imagewatch", flag.ContinueOnError)
	interval := fs.Duration("interval", 0, "polling interval (default $IMAGE_WATCH_INTERVAL or 5m)")
	runtimes := fs.String("runtimes", env("IMAGE_WATCH_RUNTIMES", ""), "comma-separated runtimes to watch (default all)")
	platform := fs.String("platform", env("IMAGE_WATCH_PLATFORM", ""), "compare this platform's digest (os/arch[/variant])")
	listen := fs.String("listen", env("IMAGE_WATCH_LISTEN", ""), "address for push events, /metrics and /healthz (default: none)")
	fleet := fs.String("fleet", env("IMAGE_WATCH_FLEET", ""), "share checks and push events with the other hosts' watchers through Redis (redis://... or rediss://...)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg := config{enabled: strings.EqualFold(env("IMAGE_AUTO_REFRESH", "false"), "true"), interval: *interval,
		listen: *listen, hooks: hooksFromEnv(env), sqsQueue: env("IMAGE_WATCH_SQS_QUEUE_URL", ""), fleet: *fleet}
	if cfg.interval == 0 {
		d, err := time.ParseDuration(env("IMAGE_WATCH_INTERVAL", watch.DefaultInterval.String()))
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("IMAGE_WATCH_INTERVAL %q is not a positive duration such as 5m", env("IMAGE_WATCH_INTERVAL", ""))
		}
		cfg.interval = d
	}
	for rt := range strings.SplitSeq(*runtimes, ",") {
		if rt = strings.TrimSpace(rt); rt == "" {
			continue
		}
		if _, err := registry.RuntimeRepository(rt); err != nil {
			return config{}, fmt.Errorf("IMAGE_WATCH_RUNTIMES: %w", err)
		}
		cfg.runtimes = append(cfg.runtimes, rt)
	}
	if *platform != "" {
		p, err := registry.ParsePlatform(*platform)
		if err != nil {
			return config{}, err
		}
		cfg.platform = &p
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	m := newMetrics()
	b, err := backends.FromEnv(&registry.Options{Logger: log, OnRequest: m.request})
	if err != nil {
		return err
	}
	docker, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer docker.Close()
	r := &engine.Refresher{Engine: docker, Backend: b, Log: log}
	var fleet watch.Fleet
	if cfg.fleet != "" {
		f, err := redisfleet.Open(cfg.fleet)
		if err != nil {
			return fmt.Errorf("IMAGE_WATCH_FLEET: %w", err)
		}
		defer f.Close()
		f.Logger, fleet = log, f
		log.Info("sharing checks and push events with a fleet on Redis", "redis", redactedURL(cfg.fleet))
	}
	w, err := newWatcher(ctx, b, r, cfg, log, m, fleet)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	if cfg.listen != "" {
		g.Go(func() error { return serve(ctx, cfg.listen, m.mux(w, cfg.hooks, cfg.interval)) })
		log.Info("listening for push events, /metrics and /healthz", "address", cfg.listen)
	}
	if cfg.sqsQueue != "" {
		awsCfg, err := ecrauth.LoadConfig(ctx, &registry.Options{Logger: log})
		if err != nil {
			return fmt.Errorf("IMAGE_WATCH_SQS_QUEUE_URL: %w", err)
		}
		// Only the registry's own account's events count (its ECR host's).
		c := &ecrevents.Consumer{Watcher: w, API: sqs.NewFromConfig(awsCfg), QueueURL: cfg.sqsQueue, Observer: m, Logger: log}
		g.Go(func() error { return c.Run(ctx) })
		log.Info("consuming ECR push events", "queue", cfg.sqsQueue)
	}
	g.Go(func() error { w.Run(ctx); return nil }) // logs "image watcher started"
	return g.Wait()
}

// newWatcher wires the watcher to the refresher: a moved digest is pulled by
// digest and the containers of that image are recreated. A failed pull
// fails the handler, so the watcher retries on its next tick. The watcher
// is seeded with the digests the Engine already has (except in platform
// mode, where the Engine's index digest is not what is compared), so a
// build published while imagewatch was down is picked up at once. obs,
// when set, learns what the watcher does (for metrics).
func newWatcher(ctx context.Context, b registry.Backend, r *engine.Refresher, cfg config, log *slog.Logger, obs watch.Observer, fleet watch.Fleet) (*watch.Watcher, error) {
	o := &watch.Options{
		Interval: cfg.interval,
		Logger:   log,
		Observer: obs,
		Fleet:    fleet,
		Handler: func(ctx context.Context, img watch.Image, _, digest string) error {
			pullDigest := digest
			if cfg.platform != nil {
				pullDigest = "" // a platform digest names a child manifest: pull the tag
			}
			if err := r.Pull(ctx, img.Name, pullDigest); err != nil {
				return err
			}
			_, err := r.Recreate(ctx, img.Name)
			return err
		},
	}
	imgs, err := runtimeImages(b, cfg.runtimes)
	if err != nil {
		return nil, err
	}
	o.Images = imgs
	if cfg.platform != nil {
		o.Platform = cfg.platform
	} else {
		names := make([]string, len(imgs))
		for i, img := range imgs {
			names[i] = img.Name
		}
		o.Seed = r.LocalDigests(ctx, names)
	}
	return watch.New(b, o)
}

// runtimeImages returns the image of each runtime of b, in the order given;
// registry.DefaultRuntimes when none are given. An invalid runtime name is
// an error that quotes it.
func runtimeImages(b registry.Backend, runtimes []string) ([]watch.Image, error) {
	if len(runtimes) == 0 {
		runtimes = registry.DefaultRuntimes()
	}
	imgs := make([]watch.Image, 0, len(runtimes))
	for _, rt := range runtimes {
		repo, err := registry.RuntimeRepository(rt)
		if err != nil {
			return nil, err
		}
		name, _ := registry.RuntimeImage(b, rt)
		imgs = append(imgs, watch.Image{Name: name, Repo: repo, Tag: registry.RuntimeTag, Runtime: rt})
	}
	return imgs, nil
}

// redactedURL is rawURL with its password hidden, for logs.
func redactedURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
