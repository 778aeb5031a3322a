// Command full is the service's start on the default route: every flavor,
// chosen by the environment (package backends), which links the AWS SDK
// for ECR and ECR Public.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/molecule-ai/registrykit/registry/watch"
)

func main() {
	b, err := backends.FromEnv(nil)
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
