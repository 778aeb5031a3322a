package watch_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/stretchr/testify/require"
)

// A Run that is stopping waits for its own event checks only: a Run that
// starts meanwhile tracks its own, and the first returns as soon as its own
// check ends, whatever the second is doing.
func TestStoppingRunWaitsForItsOwnChecksOnly(t *testing.T) {
	release1, release2 := make(chan struct{}), make(chan struct{})
	entered := make(chan string, 4)
	var held sync.Map // the first call per runtime is held, as a pull that does not watch ctx
	w, b, clock, _ := eventFixture(t, &watch.Options{HandlerConcurrency: 2, Handler: func(ctx context.Context, img watch.Image, _, _ string) error {
		if _, again := held.LoadOrStore(img.Runtime, true); again {
			return nil
		}
		entered <- img.Runtime
		if img.Runtime == "codex" {
			<-release1
		} else {
			<-release2
		}
		return nil
	}})
	rc := watch.NewReceiver(w, watch.Distribution("Bearer "+hookSecret))
	auth := map[string]string{"Authorization": "Bearer " + hookSecret}
	push := func(rt string) {
		deliver(t, rc, "/", []byte(`{"events":[{"action":"push","target":{"repository":"molecule-ai/workspace-template-`+rt+
			`","tag":"latest","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]}`), auth)
	}

	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { w.Run(ctx1); close(done1) }()
	receive(t, clock.parked, "Run 1's first tick did not finish")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("codex v2"))
	push("codex")
	require.Equal(t, "codex", <-entered)
	cancel1() // Run 1 stops and waits for its check, held in the handler

	// Run 2 starts once Run 1 has let go (until then a second Run returns
	// at once).
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	done2 := make(chan struct{})
	require.Eventually(t, func() bool {
		done2 = make(chan struct{})
		go func(done chan struct{}) { w.Run(ctx2); close(done) }(done2)
		select {
		case <-done2:
			return false // Run 1 had not let go yet
		case <-clock.parked:
			return true
		}
	}, 10*time.Second, time.Millisecond)
	b.SetDigest("workspace-template-langgraph", "latest", registrytest.Digest("langgraph v2"))
	push("langgraph")
	require.Equal(t, "langgraph", <-entered) // Run 2's check, held

	close(release1) // Run 1's own check ends
	receive(t, done1, "Run 1 waited for Run 2's checks")
	close(release2)
	cancel2()
	receive(t, done2, "Run 2 did not return")
}
