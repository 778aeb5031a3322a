package engine_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"github.com/molecule-ai/registrykit/registry/registrytest"
)

// A flavor is a Spec: what it claims and what differs. Here, registries
// under "*.registry.example" (and a loopback test server, forced) whose
// token service is known and whose repository names are lowercase; the
// engine does everything else.
func ExampleOpen() {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.Distribution, Users: map[string]string{"ci": "secret-0123456789"}})
	defer srv.Close()
	img, _ := random.Image(64, 1)
	want, _ := srv.Push("org/app", "latest", img)

	const flavor registry.Flavor = "example"
	driver := engine.Spec{
		Flavor:     flavor,
		ClaimsHost: func(host string) bool { return strings.HasSuffix(host, ".registry.example") },
		Configure: func(t engine.Target) (engine.Config, error) {
			return engine.Config{
				Auth:          engine.TokenService{Realm: "http://" + t.Prefix.Host() + "/auth/token", Service: "registry", MultiScope: true},
				Credentials:   engine.DefaultCredentials(t, "", ""),
				NormalizeRepo: strings.ToLower,
			}, nil
		},
	}
	b, err := engine.Open(registry.MustParsePrefix(srv.Host()+"/org"), append(backends.Drivers(), driver),
		&registry.Options{Flavor: flavor, Credentials: authn.Static(authn.Credential{Username: "ci", Password: "secret-0123456789"})})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := b.ManifestDigest(context.Background(), "App", "latest")
	fmt.Println(d == want.String(), err)
	c := srv.Counts()
	fmt.Println("probe", c.Ping, "token", c.Token, "HEAD", c.Head)
	// Output:
	// true <nil>
	// probe 0 token 1 HEAD 1
}
