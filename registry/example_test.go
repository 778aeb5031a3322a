package registry_test

import (
	"errors"
	"fmt"

	"github.com/molecule-ai/registrykit/registry"
)

func ExampleParsePrefix() {
	p, err := registry.ParsePrefix("git.example.com:3000/molecule-ai/")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Host(), p.Path(), p.Repository("workspace-template-codex"))
	// Output: git.example.com:3000 molecule-ai molecule-ai/workspace-template-codex
}

func ExampleParsePrefix_invalid() {
	_, err := registry.ParsePrefix("ghcr.io/molecule-ai:latest")
	fmt.Println(errors.Is(err, registry.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// invalid MOLECULE_IMAGE_REGISTRY "ghcr.io/molecule-ai:latest": path segment "molecule-ai:latest" carries a tag; a prefix names where images live, not one image: remove the ':tag'
}

func ExampleRuntimeImage() {
	p := registry.MustParsePrefix("123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai")
	img, _ := registry.RuntimeImage(p, "claude-code")
	fmt.Println(img)
	_, err := registry.RuntimeImage(p, "Not Valid")
	fmt.Println(errors.Is(err, registry.ErrInvalidConfig))
	// Output:
	// 123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai/workspace-template-claude-code:latest
	// true
}

// An application names its images at start-up from the same parse its
// backend uses, default included.
func ExampleEnv_Prefix() {
	env := registry.EnvMap(map[string]string{}) // MOLECULE_IMAGE_REGISTRY unset
	p, err := env.Prefix()
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := registry.RuntimeImage(p, "hermes")
	fmt.Println(img)
	// Output: ghcr.io/molecule-ai/workspace-template-hermes:latest
}

func ExampleDetectFlavor() {
	for _, host := range []string{"ghcr.io", "public.ecr.aws", "docker.io", "git.example.com"} {
		fmt.Println(host, registry.DetectFlavor(host))
	}
	// Output:
	// ghcr.io ghcr
	// public.ecr.aws ecr-public
	// docker.io distribution
	// git.example.com unknown
}
