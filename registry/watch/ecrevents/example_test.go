package ecrevents_test

import (
	"context"
	"fmt"
	"time"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/ecrevents"
)

// Handle checks the image an "ECR Image Action" event of the backend's
// account announces; the consumer deletes the message when Handle returns
// nil.
func ExampleConsumer_Handle() {
	b := registrytest.NewBackend("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v1"))
	w, _ := watch.New(b, &watch.Options{Runtimes: []string{"codex"}, Clock: registrytest.NewClock(time.Now()), OnEvent: func(e watch.Event) { fmt.Println(e.Kind, e.Image.Runtime) }})
	w.Check(context.Background())

	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v2"))
	// No Account: only events of the backend's own account (123456789012,
	// from its ECR host) count.
	c := &ecrevents.Consumer{Watcher: w}
	err := c.Handle(context.Background(), pushEvent("123456789012", "molecule-ai/workspace-template-codex", "latest"))
	fmt.Println(err)
	// Output:
	// seed codex
	// changed codex
	// <nil>
}
