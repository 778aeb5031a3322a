package distribution_test

import (
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
)

// Docker Hub is known by name: docker.io is served from
// registry-1.docker.io, with its known token service.
func Example() {
	b, err := backends.Open("docker.io/library", &registry.Options{Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := registry.RuntimeImage(b, "codex")
	fmt.Println(b.Flavor(), img)
	// Output: distribution docker.io/library/workspace-template-codex:latest
}
