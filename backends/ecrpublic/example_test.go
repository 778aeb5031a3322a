package ecrpublic_test

import (
	"fmt"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ecrpublic"
	"github.com/molecule-ai/registrykit/registry"
)

// ECR Public pulls are anonymous unless AWS credentials are configured or
// ecrpublic.Config.AWSAuth says otherwise.
func ExampleConfig() {
	anonymous := false
	b, err := backends.Open("public.ecr.aws/a1b2c3d4", &registry.Options{Env: registry.EnvMap(nil)},
		ecrpublic.Driver(&ecrpublic.Config{AWSAuth: &anonymous}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Flavor(), b.Prefix())
	// Output: ecr-public public.ecr.aws/a1b2c3d4
}
