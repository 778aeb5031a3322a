package registry_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heavyModules are what Docker's config loader compiles in: docker/cli's
// config package and, through it, the credential helpers' client, logrus
// and pkg/errors. Only a program that reads Docker's config (package
// authn/dockerconfig, which package backends plugs in) may depend on them.
var heavyModules = []string{
	"github.com/docker/cli",
	"github.com/docker/docker-credential-helpers",
	"github.com/sirupsen/logrus",
	"github.com/pkg/errors",
}

// The core and the token-flow drivers compile none of Docker's config
// loader in: a program that imports registry and one driver pays only for
// what it uses.
func TestCoreCompilesNoDockerConfigLoader(t *testing.T) {
	cases := []struct {
		name      string
		pkgs      []string
		wantHeavy bool
	}{
		{"registry", []string{"registry"}, false},
		{"authn", []string{"authn"}, false},
		{"registry and the ghcr driver", []string{"registry", "backends/ghcr"}, false},
		{"engine and the token-flow drivers", []string{"registry/engine", "backends/ghcr", "backends/gitea", "backends/gitlab", "backends/distribution"}, false},
		// The loader itself, and backends, which plugs it in: the check
		// above would pass vacuously if it could not see the loader.
		{"authn/dockerconfig", []string{"authn/dockerconfig"}, true},
		{"backends", []string{"backends"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			deps := compiledIn(t, tc.pkgs)
			for _, m := range heavyModules {
				if tc.wantHeavy {
					assert.True(t, uses(deps, m), "%s should compile %s in", tc.name, m)
					continue
				}
				assert.False(t, uses(deps, m), "%s compiles %s in; Docker's config loader belongs in authn/dockerconfig, plugged in by package backends (registry.Options.DockerConfig)", tc.name, m)
			}
		})
	}
}

// azureModules are what the ACR driver compiles in: the Azure SDK's
// identity and core packages and the Microsoft Authentication Library.
var azureModules = []string{
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
	"github.com/Azure/azure-sdk-for-go/sdk/azcore",
	"github.com/AzureAD/microsoft-authentication-library-for-go",
}

// A program that imports registry and the GHCR driver (the lean route,
// engine.FromEnv with its own driver list) compiles no Azure SDK in; the
// ACR driver, and package backends, do.
func TestLeanRouteCompilesNoAzureSDK(t *testing.T) {
	cases := []struct {
		pkgs      []string
		wantAzure bool
	}{
		{[]string{"registry", "registry/engine", "backends/ghcr"}, false},
		{[]string{"registry/engine", "backends/ghcr", "backends/gitea", "backends/gitlab", "backends/distribution", "backends/ecr"}, false},
		{[]string{"backends/acr"}, true},
		{[]string{"backends"}, true},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.pkgs, "+"), func(t *testing.T) {
			deps := compiledIn(t, tc.pkgs)
			for _, m := range azureModules {
				assert.Equal(t, tc.wantAzure, uses(deps, m), "%v compiles %s in", tc.pkgs, m)
			}
		})
	}
}

// compiledIn returns the packages a program importing pkgs (paths below
// the module) compiles in, as go list -deps lists them.
func compiledIn(t *testing.T, pkgs []string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command lists the packages a program compiles in")
	args := []string{"list", "-deps"}
	for _, p := range pkgs {
		args = append(args, "github.com/molecule-ai/registrykit/"+p)
	}
	out, err := exec.Command(gobin, args...).Output()
	require.NoError(t, err, "go %s", strings.Join(args, " "))
	return strings.Fields(string(out))
}

// uses reports whether deps holds a package of module m.
func uses(deps []string, m string) bool {
	return slices.ContainsFunc(deps, func(d string) bool { return d == m || strings.HasPrefix(d, m+"/") })
}
