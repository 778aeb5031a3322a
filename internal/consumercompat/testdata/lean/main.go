// Command lean is the service's start on the lean route: a backend opened
// with an explicit driver list (no ECR, no ECR Public), a watcher and the
// Engine credential. It must link no AWS SDK package (see lean_test.go).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/molecule-ai/registrykit/backends/distribution"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/backends/gitea"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/watch"
)

func main() {
	b, err := engine.FromEnv([]engine.Spec{ghcr.Driver(nil), gitea.Driver(nil), distribution.Driver()}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w, err := watch.New(b, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	img, _ := registry.RuntimeImage(b, registry.DefaultRuntime)
	auth, err := dockerauth.RegistryAuth(context.Background(), b, img)
	fmt.Println(w.Interval(), len(auth) > 0, err)
}
