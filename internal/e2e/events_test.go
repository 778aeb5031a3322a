package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/require"
)

// confirmations is a watch.Observer that passes on each confirmed change,
// and on the first check.
type confirmations struct {
	confirmed chan time.Duration
	checked   chan struct{}
}

func (c confirmations) Checked(watch.Image, watch.Kind, time.Duration, error) {
	select {
	case c.checked <- struct{}{}:
	default:
	}
}
func (c confirmations) Delivered(string, bool, string)               {}
func (c confirmations) Confirmed(_ watch.Image, since time.Duration) { c.confirmed <- since }

// The CNCF registry, configured to notify the watcher's receiver, announces
// a push; the watcher confirms the change with its own HEAD. The time from
// the push's completion to the confirmed change is reported, not asserted.
func TestPushNotificationToConfirmedChange(t *testing.T) {
	const secret = "Bearer notify-secret-0123456789"
	seen := confirmations{confirmed: make(chan time.Duration, 4), checked: make(chan struct{}, 1)}
	var mu sync.Mutex
	var rc http.Handler
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := rc
		mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusServiceUnavailable) // not ready: the registry retries
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer receiver.Close()
	reg, err := Start(HtpasswdAuth, map[string]string{user: password}, t.TempDir(), configuration.Endpoint{
		Name: "watcher", URL: receiver.URL + "/hooks/registry", Headers: http.Header{"Authorization": {secret}},
		Timeout: 5 * time.Second, Threshold: 3, Backoff: time.Second,
	})
	require.NoError(t, err)
	defer reg.Close()
	push(t, reg)

	b := open(t, reg, authn.Credential{Username: user, Password: password}, nil)
	w, err := watch.New(b, &watch.Options{Images: []watch.Image{{Name: reg.Host() + "/org/single:latest", Repo: "single", Tag: "latest"}},
		Observer: seen, Interval: time.Hour})
	require.NoError(t, err)
	mu.Lock()
	rc = watch.NewReceiver(w, watch.Distribution(secret))
	mu.Unlock()
	w.Check(context.Background()) // seed
	<-seen.checked
	// Deliveries are answered at once; their checks run under Run. Its
	// interval is an hour: only the notification can find the change.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	<-seen.checked // Run's first tick is over

	img, err := random.Image(64, 1)
	require.NoError(t, err)
	ref, err := name.NewTag(reg.Host()+"/org/single:latest", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(&ggcrauthn.Basic{Username: user, Password: password})))
	pushedAt := time.Now()
	select {
	case since := <-seen.confirmed:
		t.Logf("push to confirmed change: %s (of which %s from the notification's arrival)", time.Since(pushedAt).Round(time.Millisecond), since.Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the registry's notification did not lead to a confirmed change")
	}
	want, _ := img.Digest()
	require.Equal(t, want.String(), w.Seen()[reg.Host()+"/org/single:latest"])
}
