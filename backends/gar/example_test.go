package gar_test

import (
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/gar"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// Artifact Registry's hosts, and the gcr.io hosts it serves, select the
// driver by name; opening a backend resolves no credentials and sends
// nothing. A token source of the caller's replaces Application Default
// Credentials.
func ExampleDriver() {
	env := &registry.Options{Env: registry.EnvMap(map[string]string{})}
	for _, prefix := range []string{"europe-west1-docker.pkg.dev/my-project/images", "gcr.io/my-project"} {
		b, err := backends.Open(prefix, env)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(b.Flavor(), b.Host())
	}
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.from-elsewhere"})
	b, err := backends.Open("us-docker.pkg.dev/my-project/images", env, gar.Driver(&gar.Config{TokenSource: ts}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	// Output:
	// gar europe-west1-docker.pkg.dev
	// gar gcr.io
	// gar us-docker.pkg.dev
}
