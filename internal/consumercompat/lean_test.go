package consumercompat

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linked lists the packages a program under testdata links whose path
// starts with prefix, with "go list -deps" in this module (the service's
// pins).
func linked(t *testing.T, program, prefix string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "./testdata/"+program).CombinedOutput()
	require.NoError(t, err, string(out))
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, prefix) {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// A service that opens its backend with an explicit driver list
// (engine.FromEnv with GHCR, Gitea and distribution) links no AWS SDK
// package; the default route (backends, every flavor) does, which is what
// the check would catch.
func TestLeanRouteLinksNoAWSSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	assert.Empty(t, linked(t, "lean", "github.com/aws/"), "the lean route links no AWS package")
	assert.NotEmpty(t, linked(t, "full", "github.com/aws/"), "the default route links the AWS SDK")
}

// The same lean route links no Azure SDK or MSAL package either; the
// default route, with the ACR driver, does.
func TestLeanRouteLinksNoAzureSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, prefix := range []string{"github.com/Azure/", "github.com/AzureAD/"} {
		assert.Empty(t, linked(t, "lean", prefix), "the lean route links no %s package", prefix)
	}
	assert.NotEmpty(t, linked(t, "full", "github.com/Azure/azure-sdk-for-go/sdk/azidentity"), "the default route links azidentity")
}

// Nor does it link Google's credential chain (the gar driver's
// golang.org/x/oauth2/google and the metadata client), which the default
// route does.
func TestLeanRouteLinksNoGoogleAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, prefix := range []string{"cloud.google.com/", "golang.org/x/oauth2/google"} {
		assert.Empty(t, linked(t, "lean", prefix), prefix)
		assert.NotEmpty(t, linked(t, "full", prefix), prefix)
	}
}
