package watch_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hookSecret = "webhook-secret-0123456789"

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// recorder is an Observer that remembers what it saw, and passes on each
// check and each confirmed change.
type recorder struct {
	mu            sync.Mutex
	checks        int
	refused       []string
	confirmed     []string
	checked       chan struct{}
	confirmations chan string
}

func newRecorder() *recorder {
	return &recorder{checked: make(chan struct{}, 64), confirmations: make(chan string, 64)}
}

func (r *recorder) Checked(watch.Image, watch.Kind, time.Duration, error) {
	r.mu.Lock()
	r.checks++
	r.mu.Unlock()
	select {
	case r.checked <- struct{}{}:
	default:
	}
}

func (r *recorder) Delivered(source string, accepted bool, reason string) {
	if !accepted {
		r.mu.Lock()
		r.refused = append(r.refused, source+":"+reason)
		r.mu.Unlock()
	}
}

func (r *recorder) Confirmed(img watch.Image, _ time.Duration) {
	r.mu.Lock()
	r.confirmed = append(r.confirmed, img.Runtime)
	r.mu.Unlock()
	r.confirmations <- img.Runtime
}

func (r *recorder) confirmedRuntimes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.confirmed...)
}

// parkingClock is a fake clock on which Run's wait for its next tick parks
// until Run's context ends, announcing it on parked: a test then knows a
// tick has finished and that no other tick will run. Shorter waits (the
// MinEventInterval between event checks) pass at once on the fake clock.
type parkingClock struct {
	*registrytest.Clock
	parked chan struct{}
}

func newParkingClock() *parkingClock {
	return &parkingClock{Clock: registrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), parked: make(chan struct{}, 16)}
}

func (c *parkingClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= watch.MinEventInterval {
		return c.Clock.Sleep(ctx, d)
	}
	c.parked <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// run runs w until the test ends or stop is called; stop returns once Run
// has returned.
func run(t *testing.T, w *watch.Watcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// eventFixture watches two runtime images on a fake backend for
// ghcr.io/molecule-ai, seeded, on a parking clock; it does not run the
// watcher. Fields of extra other than the images, the clock and the
// observer are kept.
func eventFixture(t *testing.T, extra ...*watch.Options) (*watch.Watcher, *registrytest.Backend, *parkingClock, *recorder) {
	t.Helper()
	b := registrytest.NewBackend("ghcr.io/molecule-ai")
	for _, rt := range []string{"codex", "langgraph"} {
		b.SetDigest("workspace-template-"+rt, "latest", registrytest.Digest(rt+" v1"))
	}
	clock := newParkingClock()
	rec := newRecorder()
	var o watch.Options
	if len(extra) > 0 && extra[0] != nil {
		o = *extra[0]
	}
	o.Runtimes, o.Clock, o.Observer = []string{"codex", "langgraph"}, clock, rec
	w, err := watch.New(b, &o)
	require.NoError(t, err)
	w.Check(context.Background()) // seed
	return w, b, clock, rec
}

// runningFixture is eventFixture with the watcher running, its first tick
// over.
func runningFixture(t *testing.T, extra ...*watch.Options) (*watch.Watcher, *registrytest.Backend, *parkingClock, *recorder, func()) {
	t.Helper()
	w, b, clock, rec := eventFixture(t, extra...)
	stop := run(t, w)
	receive(t, clock.parked, "the first tick did not finish")
	return w, b, clock, rec, stop
}

func deliver(t *testing.T, h http.Handler, path string, body []byte, headers map[string]string) (int, map[string][]string) {
	t.Helper()
	return deliverCtx(t, context.Background(), h, path, body, headers)
}

func deliverCtx(t *testing.T, ctx context.Context, h http.Handler, path string, body []byte, headers map[string]string) (int, map[string][]string) {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	var res map[string][]string
	_ = json.Unmarshal(rw.Body.Bytes(), &res)
	return rw.Code, res
}

// Each sender's real format, signed as it signs: a push of a watched image
// is queued, checked at once by the running watcher, and the change
// confirmed by the watcher's own request.
func TestReceiverSources(t *testing.T) {
	github := []byte(`{"action":"published","package":{"name":"workspace-template-codex","namespace":"molecule-ai","package_type":"CONTAINER",
		"owner":{"login":"molecule-ai"},"package_version":{"container_metadata":{"tag":{"name":"latest","digest":"sha256:forged"}}}}}`)
	gitea := []byte(`{"action":"created","package":{"name":"workspace-template-codex","version":"latest","type":"container","owner":{"login":"molecule-ai"}}}`)
	dist := []byte(`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json","repository":"molecule-ai/workspace-template-codex","tag":"latest","digest":"sha256:forged"}},
		{"action":"push","target":{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","repository":"molecule-ai/workspace-template-langgraph"}}]}`)
	hub := []byte(`{"push_data":{"tag":"latest","pusher":"ci"},"repository":{"repo_name":"molecule-ai/workspace-template-codex"}}`)
	harbor := []byte(`{"type":"PUSH_ARTIFACT","occur_at":1700000000,"operator":"ci","event_data":{"resources":[{"digest":"sha256:forged","tag":"latest",
		"resource_url":"harbor.example.com/molecule-ai/workspace-template-codex:latest"}],"repository":{"name":"workspace-template-codex","namespace":"molecule-ai","repo_full_name":"molecule-ai/workspace-template-codex","repo_type":"private"}}}`)
	cases := []struct {
		name    string
		source  watch.Source
		path    string
		body    []byte
		headers map[string]string
	}{
		{"github", watch.GitHub(hookSecret), "/hooks/github", github, map[string]string{"X-GitHub-Event": "package", "X-Hub-Signature-256": "sha256=" + sign(github)}},
		{"gitea", watch.Gitea(hookSecret), "/hooks/gitea", gitea, map[string]string{"X-Gitea-Event-Type": "package", "X-Gitea-Event": "", "X-Gitea-Signature": sign(gitea)}},
		{"harbor", watch.Harbor("Basic " + hookSecret), "/hooks/harbor", harbor, map[string]string{"Authorization": "Basic " + hookSecret}},
		{"distribution", watch.Distribution("Bearer " + hookSecret), "/hooks/registry", dist, map[string]string{"Authorization": "Bearer " + hookSecret,
			"Content-Type": "application/vnd.docker.distribution.events.v2+json"}},
		{"docker hub", watch.DockerHub(hookSecret), "/hooks/dockerhub/" + hookSecret, hub, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, b, clock, rec, stop := runningFixture(t)
			clock.Advance(time.Minute)
			moved := registrytest.Digest("codex v2")
			b.SetDigest("workspace-template-codex", "latest", moved)
			before := b.Calls()
			code, res := deliver(t, watch.NewReceiver(w, tc.source), tc.path, tc.body, tc.headers)
			require.Equal(t, http.StatusAccepted, code)
			assert.Equal(t, []string{"ghcr.io/molecule-ai/workspace-template-codex:latest"}, res["queued"])
			assert.Equal(t, "codex", receive(t, rec.confirmations, "the change was not confirmed"))
			stop()
			assert.Equal(t, 1, b.Calls()-before, "one check, of the pushed image only")
			assert.Equal(t, moved, w.Seen()["ghcr.io/molecule-ai/workspace-template-codex:latest"], "the digest the watcher saw, not the payload's")
			assert.Equal(t, []string{"codex"}, rec.confirmedRuntimes())
		})
	}
}

// Forged, unsigned and oversized deliveries are refused before any
// registry request.
func TestReceiverRefusesForgeries(t *testing.T) {
	body := []byte(`{"action":"published","package":{"name":"workspace-template-codex","namespace":"molecule-ai","package_type":"container"}}`)
	mac := hmac.New(sha256.New, []byte("another secret"))
	mac.Write(body)
	forged := hex.EncodeToString(mac.Sum(nil))
	for name, tc := range map[string]struct {
		source  watch.Source
		path    string
		body    []byte
		headers map[string]string
		status  int
	}{
		"github wrong key":    {watch.GitHub(hookSecret), "/", body, map[string]string{"X-GitHub-Event": "package", "X-Hub-Signature-256": "sha256=" + forged}, 401},
		"github unsigned":     {watch.GitHub(hookSecret), "/", body, map[string]string{"X-GitHub-Event": "package"}, 401},
		"github bare hex":     {watch.GitHub(hookSecret), "/", body, map[string]string{"X-GitHub-Event": "package", "X-Hub-Signature-256": sign(body)}, 401},
		"gitea wrong key":     {watch.Gitea(hookSecret), "/", body, map[string]string{"X-Gitea-Event": "package", "X-Gitea-Signature": forged}, 401},
		"distribution no key": {watch.Distribution("Bearer " + hookSecret), "/", body, nil, 401},
		"distribution wrong":  {watch.Distribution("Bearer " + hookSecret), "/", body, map[string]string{"Authorization": "Bearer guess"}, 401},
		"docker hub path":     {watch.DockerHub(hookSecret), "/hooks/dockerhub/guess", body, nil, 401},
		"empty secret":        {watch.GitHub(""), "/", body, map[string]string{"X-GitHub-Event": "package", "X-Hub-Signature-256": "sha256=" + sign(body)}, 401},
		"too large":           {watch.GitHub(hookSecret), "/", bytes.Repeat([]byte("x"), watch.MaxEventBody+1), nil, 413},
		"malformed":           {watch.Distribution("Bearer " + hookSecret), "/", []byte("{"), map[string]string{"Authorization": "Bearer " + hookSecret}, 400},
	} {
		t.Run(name, func(t *testing.T) {
			w, b, _, rec := eventFixture(t)
			before := b.Calls()
			code, _ := deliver(t, watch.NewReceiver(w, tc.source), tc.path, tc.body, tc.headers)
			assert.Equal(t, tc.status, code)
			assert.Equal(t, before, b.Calls(), "no registry request")
			assert.Len(t, rec.refused, 1)
		})
	}
}

// A delivery for an image the watcher does not watch costs nothing; a flood
// for one image costs at most one check per second.
func TestReceiverUnwatchedAndFloods(t *testing.T) {
	w, b, clock, rec, stop := runningFixture(t)
	rc := watch.NewReceiver(w, watch.Distribution("Bearer "+hookSecret))
	auth := map[string]string{"Authorization": "Bearer " + hookSecret}
	other := []byte(`{"events":[{"action":"push","target":{"repository":"someone/else","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`)
	before := b.Calls()
	code, res := deliver(t, rc, "/", other, auth)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Empty(t, res["queued"])
	assert.Equal(t, before, b.Calls())

	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v2"))
	push := []byte(`{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-codex","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`)
	start := clock.Now()
	before = b.Calls()
	for range 20 {
		code, res := deliver(t, rc, "/", push, auth)
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, []string{"ghcr.io/molecule-ai/workspace-template-codex:latest"}, res["queued"])
	}
	assert.Equal(t, "codex", receive(t, rec.confirmations, "the change was not confirmed"))
	stop()
	elapsed := clock.Now().Sub(start)
	checks := b.Calls() - before
	assert.GreaterOrEqual(t, checks, 1)
	assert.LessOrEqual(t, float64(checks), elapsed.Seconds()+1, "at most one check per image per second (%d checks in %s)", checks, elapsed)
}

// Concurrent duplicate deliveries share one check: on the system clock, 10
// deliveries at once cost the check under way and one queued behind it.
func TestReceiverConcurrentDuplicatesShareACheck(t *testing.T) {
	b := registrytest.NewBackend("ghcr.io/molecule-ai")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v1"))
	rec := newRecorder()
	w, err := watch.New(b, &watch.Options{Runtimes: []string{"codex"}, Interval: time.Hour, Observer: rec})
	require.NoError(t, err)
	stop := run(t, w)
	receive(t, rec.checked, "the first tick did not check")
	rc := watch.NewReceiver(w, watch.Distribution("Bearer "+hookSecret))
	push := []byte(`{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-codex","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`)
	before := b.Calls()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := deliver(t, rc, "/", push, map[string]string{"Authorization": "Bearer " + hookSecret})
			assert.Equal(t, http.StatusAccepted, code)
		}()
	}
	wg.Wait()
	receive(t, rec.checked, "no event check ran")
	stop()
	assert.LessOrEqual(t, b.Calls()-before, 2, "duplicates coalesce (one check under way, one queued)")
}

// A delivery is answered while the handler of the change it announced is
// still running, and the handler runs under Run's context: the delivery's
// request context ending does not cancel it, Run's ending does.
func TestReceiverAnswersWhileTheHandlerRuns(t *testing.T) {
	entered := make(chan context.Context, 1)
	release := make(chan struct{})
	handlerDone := make(chan error, 1)
	w, b, _, _, stop := runningFixture(t, &watch.Options{Handler: func(ctx context.Context, _ watch.Image, _, _ string) error {
		entered <- ctx
		select {
		case <-release:
			handlerDone <- nil
			return nil
		case <-ctx.Done():
			handlerDone <- ctx.Err()
			return ctx.Err()
		}
	}})
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v2"))
	rc := watch.NewReceiver(w, watch.Distribution("Bearer "+hookSecret))
	push := []byte(`{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-codex","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`)
	reqCtx, endRequest := context.WithCancel(context.Background())
	answered := make(chan int, 1)
	go func() {
		code, _ := deliverCtx(t, reqCtx, rc, "/", push, map[string]string{"Authorization": "Bearer " + hookSecret})
		answered <- code
	}()
	handlerCtx := receive(t, entered, "the handler was not called")
	select {
	case code := <-answered:
		assert.Equal(t, http.StatusAccepted, code)
	case <-time.After(10 * time.Second):
		close(release) // let the delivery end before failing
		t.Fatal("the delivery was not answered while the handler ran")
	}
	endRequest()
	assert.NoError(t, handlerCtx.Err(), "the delivery's end does not cancel the handler")
	stop()
	assert.ErrorIs(t, receive(t, handlerDone, "the handler did not end"), context.Canceled, "Run's end cancels the handler")
}

// A delivery that arrives while the watcher is not running is accepted, and
// its image is checked when Run starts.
func TestReceiverQueuesUntilRun(t *testing.T) {
	w, b, clock, rec := eventFixture(t)
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v2"))
	rc := watch.NewReceiver(w, watch.Distribution("Bearer "+hookSecret))
	push := []byte(`{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-codex","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`)
	before := b.Calls()
	code, res := deliver(t, rc, "/", push, map[string]string{"Authorization": "Bearer " + hookSecret})
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, []string{"ghcr.io/molecule-ai/workspace-template-codex:latest"}, res["queued"])
	assert.Equal(t, before, b.Calls(), "nothing checked before Run")
	run(t, w)
	assert.Equal(t, "codex", receive(t, rec.confirmations, "the queued event was not checked when Run started"))
	receive(t, clock.parked, "the first tick did not finish")
}
