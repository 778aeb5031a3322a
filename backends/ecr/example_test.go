package ecr_test

import (
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/registry"
)

// An ECR host names its account and region; opening a backend for it loads
// nothing and sends nothing. A driver option for another flavor is refused.
func ExampleDriver() {
	b, err := backends.Open("123456789012.dkr.ecr.eu-west-1.amazonaws.com/molecule-ai", registry.WithEnvMap(map[string]string{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	_, err = backends.Open("ghcr.io/molecule-ai", ecr.WithRegion("eu-west-1"), registry.WithEnvMap(map[string]string{}))
	fmt.Println(err)
	// Output:
	// ecr 123456789012.dkr.ecr.eu-west-1.amazonaws.com
	// invalid driver option "ecr option": is an option of the ecr driver, but the registry ghcr.io uses the ghcr driver; drop the option, or force the ecr flavor
}
