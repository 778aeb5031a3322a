package ecr_test

import (
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecr"
	"github.com/molecule-ai/registrykit/registry"
)

// An ECR host names its account and region; opening a backend for it loads
// nothing and sends nothing. A region that contradicts the host's is
// refused.
func ExampleDriver() {
	b, err := backends.Open("123456789012.dkr.ecr.eu-west-1.amazonaws.com/molecule-ai", &registry.Options{Env: registry.EnvMap(map[string]string{})})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Host())
	_, err = backends.Open("123456789012.dkr.ecr.eu-west-1.amazonaws.com/molecule-ai", &registry.Options{Env: registry.EnvMap(nil)},
		ecr.Driver(&ecr.Config{Region: "us-east-1"}))
	fmt.Println(err)
	// Output:
	// ecr 123456789012.dkr.ecr.eu-west-1.amazonaws.com
	// invalid ECR region "us-east-1": does not match the region eu-west-1 of the registry host 123456789012.dkr.ecr.eu-west-1.amazonaws.com; drop ecr.Config.Region: the host names the region
}
