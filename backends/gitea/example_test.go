package gitea_test

import (
	"context"
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// A Gitea is told apart by its /v2/ challenge, on the backend's first
// request.
func Example() {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Gitea})
	defer srv.Close()
	b, err := backends.Open(srv.Host()+"/org", &registry.Options{Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor()) // nothing sent yet
	_, err = b.Discover(context.Background())
	f := b.Flavor()
	fmt.Println(f, err)
	// Output:
	// unknown
	// gitea <nil>
}
