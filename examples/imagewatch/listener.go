package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/hookserver"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// hooks is where registries deliver push events, from the environment:
// each sender is enabled by its secret.
type hooks struct {
	github, gitea, harbor, dockerhub string // secrets
	registry                         string // the Authorization value distribution notifications carry
}

func hooksFromEnv(env func(k, def string) string) hooks {
	return hooks{
		github:    env("IMAGE_WATCH_GITHUB_SECRET", ""),
		gitea:     env("IMAGE_WATCH_GITEA_SECRET", ""),
		harbor:    env("IMAGE_WATCH_HARBOR_AUTH", ""),
		dockerhub: env("IMAGE_WATCH_DOCKERHUB_SECRET", ""),
		registry:  env("IMAGE_WATCH_REGISTRY_AUTH", ""),
	}
}

// metrics is the Prometheus side of the watcher: a watch.Observer and a
// registry request observer.
type metrics struct {
	reg        *prometheus.Registry
	checks     *prometheus.CounterVec
	checkTime  prometheus.Histogram
	requests   *prometheus.CounterVec
	reqTime    *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	toChange   prometheus.Histogram
	pullLimit  *prometheus.GaugeVec
	pullsLeft  *prometheus.GaugeVec
	lastTick   atomic.Int64 // unix seconds of the last check
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imagewatch_checks_total",
			Help: "Image checks by outcome (seed, changed, error, unchanged)."}, []string{"outcome"}),
		checkTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "imagewatch_check_duration_seconds",
			Help: "Duration of one image check.", Buckets: prometheus.DefBuckets}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imagewatch_registry_requests_total",
			Help: "Requests to the registry and its token service, by kind (ping, manifest, token) and status."}, []string{"kind", "status"}),
		reqTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imagewatch_registry_request_duration_seconds",
			Help: "Duration of registry requests by kind.", Buckets: prometheus.DefBuckets}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imagewatch_event_deliveries_total",
			Help: "Push event deliveries by source, accepted or refused, and reason."}, []string{"source", "accepted", "reason"}),
		toChange: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "imagewatch_event_to_change_seconds",
			Help: "Time from a push event's arrival to the confirmed change.", Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30}}),
	}
	m.pullLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imagewatch_registry_pull_limit",
		Help: "The pull limit the registry reports for its window (Docker Hub's ratelimit-limit), by host."}, []string{"host"})
	m.pullsLeft = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imagewatch_registry_pulls_remaining",
		Help: "What is left of that limit (ratelimit-remaining); a manifest GET spends a pull, a HEAD does not."}, []string{"host"})
	m.reg.MustRegister(m.checks, m.checkTime, m.requests, m.reqTime, m.deliveries, m.toChange, m.pullLimit, m.pullsLeft)
	return m
}

// Checked implements watch.Observer.
func (m *metrics) Checked(_ watch.Image, outcome watch.Kind, took time.Duration, _ error) {
	name := string(outcome)
	if name == "" {
		name = "unchanged"
	}
	m.checks.WithLabelValues(name).Inc()
	m.checkTime.Observe(took.Seconds())
	m.lastTick.Store(time.Now().Unix())
}

// Delivered implements watch.Observer.
func (m *metrics) Delivered(source string, accepted bool, reason string) {
	m.deliveries.WithLabelValues(source, strconv.FormatBool(accepted), reason).Inc()
}

// Confirmed implements watch.Observer.
func (m *metrics) Confirmed(_ watch.Image, since time.Duration) { m.toChange.Observe(since.Seconds()) }

// request is the registry.Options.OnRequest function.
func (m *metrics) request(r registry.Request) {
	status := strconv.Itoa(r.Status)
	if r.Err != nil {
		status = "error"
	}
	m.requests.WithLabelValues(r.Kind, status).Inc()
	m.reqTime.WithLabelValues(r.Kind).Observe(r.Duration.Seconds())
	if r.RateLimit > 0 {
		m.pullLimit.WithLabelValues(r.Host).Set(float64(r.RateLimit))
		m.pullsLeft.WithLabelValues(r.Host).Set(float64(r.RateRemaining))
	}
}

// mux serves the event receivers, /metrics and /healthz. /healthz answers
// 200 while a check ran within three intervals, 503 otherwise.
func (m *metrics) mux(w *watch.Watcher, h hooks, interval time.Duration) *http.ServeMux {
	mux := http.NewServeMux()
	if h.github != "" {
		mux.Handle("POST /hooks/github", watch.NewReceiver(w, watch.GitHub(h.github)))
	}
	if h.gitea != "" {
		mux.Handle("POST /hooks/gitea", watch.NewReceiver(w, watch.Gitea(h.gitea)))
	}
	if h.harbor != "" {
		mux.Handle("POST /hooks/harbor", watch.NewReceiver(w, watch.Harbor(h.harbor)))
	}
	if h.registry != "" {
		mux.Handle("POST /hooks/registry", watch.NewReceiver(w, watch.Distribution(h.registry)))
	}
	if h.dockerhub != "" {
		mux.Handle("POST /hooks/dockerhub/", watch.NewReceiver(w, watch.DockerHub(h.dockerhub)))
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		last := time.Unix(m.lastTick.Load(), 0)
		if m.lastTick.Load() == 0 || time.Since(last) > 3*interval {
			http.Error(rw, "no check within three intervals", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	return mux
}

// serve runs the listener until ctx ends.
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := hookserver.New(h, hookserver.Timeouts{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
		return nil
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
