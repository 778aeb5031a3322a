package ecrevents_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/ecrevents"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deliveries is an Observer that records the reason of each delivery.
type deliveries struct {
	mu      sync.Mutex
	reasons []string
}

func (d *deliveries) Checked(watch.Image, watch.Kind, time.Duration, error) {}
func (d *deliveries) Confirmed(watch.Image, time.Duration)                  {}
func (d *deliveries) Delivered(_ string, accepted bool, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !accepted {
		reason = "refused: " + reason
	}
	d.reasons = append(d.reasons, reason)
}

// A consumer with no account configured counts only the events of its
// backend's own account, parsed from the ECR host; a configured account
// wins; a backend whose host names no account counts none.
func TestAccountDefaultsToTheBackends(t *testing.T) {
	const (
		own   = "111111111111"
		other = "222222222222"
	)
	for _, tc := range []struct {
		name            string
		prefix, account string
		checked         map[string]bool // event account -> checked
	}{
		{"the backend's account", own + ".dkr.ecr.us-east-1.amazonaws.com/molecule-ai", "", map[string]bool{other: false, own: true}},
		{"a configured account wins", own + ".dkr.ecr.us-east-1.amazonaws.com/molecule-ai", other, map[string]bool{own: false, other: true}},
		{"no ECR host, no account: none", "registry.example.com/molecule-ai", "", map[string]bool{own: false, other: false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := registrytest.NewBackend(tc.prefix)
			b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v1"))
			w, err := watch.New(b, &watch.Options{Runtimes: []string{"codex"}, Clock: registrytest.NewClock(time.Now())})
			require.NoError(t, err)
			w.Check(context.Background())
			var logs bytes.Buffer
			obs := &deliveries{}
			c := &ecrevents.Consumer{Watcher: w, Account: tc.account, Observer: obs,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			for _, account := range []string{own, other} {
				before := b.Calls()
				require.NoError(t, c.Handle(context.Background(), pushEvent(account, "molecule-ai/workspace-template-codex", "latest")))
				assert.Equal(t, tc.checked[account], b.Calls() > before, "event of %s checked", account)
				if !tc.checked[account] {
					assert.Equal(t, "refused: other account", obs.reasons[len(obs.reasons)-1])
					assert.Contains(t, logs.String(), "level=DEBUG")
					assert.Contains(t, logs.String(), "account="+account)
				}
			}
		})
	}
}
