package ghcr_test

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/ghcr"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// With GHCR_USER and GHCR_TOKEN, every check is one HEAD: the PAT goes to
// the registry as a bearer token, and no token is ever fetched. (The
// imitation answers as ghcr.io does, on loopback; the flavor is forced
// because its host is not ghcr.io.)
func ExampleDriver() {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, Users: map[string]string{"octocat": "ghp_example0123456789"}})
	defer srv.Close()
	img, _ := random.Image(64, 1)
	_, _ = srv.Push("molecule-ai/workspace-template-codex", "latest", img)

	b, err := backends.Open(srv.Host()+"/molecule-ai", &registry.Options{Flavor: registry.FlavorGHCR, Env: registry.EnvMap(map[string]string{
		"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", ghcr.EnvUser: "octocat", ghcr.EnvToken: "ghp_example0123456789",
	})})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		if _, err := b.ManifestDigest(context.Background(), "workspace-template-codex", "latest"); err != nil {
			fmt.Println(err)
			return
		}
	}
	c := srv.Counts()
	fmt.Println("HEAD", c.Head, "token", c.Token)
	// Output: HEAD 3 token 0
}
