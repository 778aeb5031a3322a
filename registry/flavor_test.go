package registry_test

import (
	"testing"

	ihost "github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseECRHost(t *testing.T) {
	cases := []struct {
		host      string
		account   string
		region    string
		fips      bool
		dualStack bool
		suffix    string
		partition string
	}{
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com", "123456789012", "us-east-2", false, false, "amazonaws.com", "aws"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com:443", "123456789012", "eu-west-1", false, false, "amazonaws.com", "aws"},
		{"123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", "123456789012", "us-east-1", false, false, "amazonaws.com", "aws"},
		{"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1", true, false, "amazonaws.com", "aws"},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", true, false, "amazonaws.com", "aws-us-gov"},
		{"123456789012.dkr.ecr.us-gov-east-1.amazonaws.com", "123456789012", "us-gov-east-1", false, false, "amazonaws.com", "aws-us-gov"},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", false, false, "amazonaws.com.cn", "aws-cn"},
		{"123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", "123456789012", "cn-northwest-1", false, false, "amazonaws.com.cn", "aws-cn"},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", false, false, "amazonaws.eu", "aws-eusc"},
		{"123456789012.dkr-ecr.us-east-1.on.aws", "123456789012", "us-east-1", false, true, "on.aws", "aws"},
		{"123456789012.dkr-ecr-fips.us-east-1.on.aws", "123456789012", "us-east-1", true, true, "on.aws", "aws"},
		{"123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "123456789012", "cn-north-1", false, true, "on.amazonwebservices.com.cn", "aws-cn"},
		{"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", false, false, "c2s.ic.gov", "aws-iso"},
		{"123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", false, false, "sc2s.sgov.gov", "aws-iso-b"},
		{"123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", false, false, "cloud.adc-e.uk", "aws-iso-e"},
		{"123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789012", "us-isof-south-1", false, false, "csp.hci.ic.gov", "aws-iso-f"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			h, ok := ihost.ParseECR(tc.host)
			require.True(t, ok)
			assert.Equal(t, tc.account, h.Account)
			assert.Equal(t, tc.region, h.Region)
			assert.Equal(t, tc.fips, h.FIPS)
			assert.Equal(t, tc.dualStack, h.DualStack)
			assert.Equal(t, tc.suffix, h.Suffix)
			assert.Equal(t, tc.partition, h.Partition())
			assert.Equal(t, registry.FlavorECR, registry.DetectFlavor(tc.host))
		})
	}
	nearMisses := []string{
		"12345678901.dkr.ecr.us-east-1.amazonaws.com",               // 11-digit account
		"1234567890123.dkr.ecr.us-east-1.amazonaws.com",             // 13-digit account
		"123456789012.dkr.ecr.amazonaws.com",                        // missing region
		"x.123456789012.dkr.ecr.us-east-1.amazonaws.com",            // extra label in front
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", // extra labels behind
		"123456789012.dkr.ecr.us-east-1.amazonaws.org",
		"123456789012.ecr.us-east-1.amazonaws.com",
		"123456789012.dkr_ecr.us-east-1.amazonaws.com",
		"abcdefghijkl.dkr.ecr.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr.useast1.amazonaws.com",
		"api.ecr.us-east-1.amazonaws.com",
		"public.ecr.aws",
		"",
	}
	for _, host := range nearMisses {
		t.Run("miss/"+host, func(t *testing.T) {
			_, ok := ihost.ParseECR(host)
			assert.False(t, ok)
			assert.NotEqual(t, registry.FlavorECR, registry.DetectFlavor(host))
		})
	}
}

func TestDetectFlavor(t *testing.T) {
	cases := map[string]registry.Flavor{
		"ghcr.io":              registry.FlavorGHCR,
		"GHCR.IO":              registry.FlavorGHCR,
		"ghcr.io:443":          registry.FlavorGHCR,
		"public.ecr.aws":       registry.FlavorECRPublic,
		"ecr-public.aws.com":   registry.FlavorECRPublic,
		"docker.io":            registry.FlavorDistribution,
		"index.docker.io":      registry.FlavorDistribution,
		"registry-1.docker.io": registry.FlavorDistribution,
		"docker.io:443":        registry.FlavorDistribution,
		"docker.io:8443":       registry.FlavorUnknown, // another registry to Docker
		"git.example.com":      registry.FlavorUnknown,
		"127.0.0.1:5000":       registry.FlavorUnknown,
		"[::1]:5000":           registry.FlavorUnknown,
		"ghcr.io.example.com":  registry.FlavorUnknown,
		"123456789012.dkr.ecr.us-east-2.amazonaws.com": registry.FlavorECR,
		"contoso.azurecr.io":                           registry.FlavorACR,
		"Contoso.AzureCR.io.":                          registry.FlavorACR,
		"contoso.azurecr.io:443":                       registry.FlavorACR,
		"contoso.eastus.geo.azurecr.io":                registry.FlavorACR,
		"contoso.azurecr.cn":                           registry.FlavorACR,
		"contoso.azurecr.us":                           registry.FlavorACR,
		"azurecr.io":                                   registry.FlavorUnknown,
		".azurecr.io":                                  registry.FlavorUnknown,
		"contoso.azurecr.io.example.com":               registry.FlavorUnknown,
		"contoso.azurecr.de":                           registry.FlavorUnknown,
		"contoso.eastus.data.azurecr.io":               registry.FlavorUnknown, // a data endpoint, not a login server
		"contosoazurecr.io":                            registry.FlavorUnknown,
	}
	for host, want := range cases {
		assert.Equal(t, want, registry.DetectFlavor(host), host)
	}
}

func TestParseFlavor(t *testing.T) {
	for _, f := range registry.Flavors() {
		got, err := registry.ParseFlavor(" " + string(f) + " ")
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	got, err := registry.ParseFlavor("GHCR")
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorGHCR, got)
	got, err = registry.ParseFlavor("")
	require.NoError(t, err)
	assert.Equal(t, registry.FlavorUnknown, got)
	assert.Equal(t, "unknown", got.String())

	_, err = registry.ParseFlavor("quay")
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	require.ErrorIs(t, err, registry.ErrInvalidConfig)
	for _, name := range []string{"quay", "MOLECULE_IMAGE_REGISTRY_FLAVOR", "ghcr", "ecr", "ecr-public", "acr", "gitea", "gar", "distribution"} {
		assert.Contains(t, err.Error(), name)
	}
}

// Docker Hub is its three names without a port or on 443; on another port
// the name is another registry, as Docker reads it.
func TestIsDockerHub(t *testing.T) {
	for host, want := range map[string]bool{
		"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true, "DOCKER.IO": true,
		"docker.io:443": true, "docker.io:8443": false, "index.docker.io:5000": false,
		"ghcr.io": false, "mirror.docker.io": false,
	} {
		assert.Equal(t, want, ihost.IsDockerHub(host), host)
	}
}

// Artifact Registry hosts by name: <location>-docker.pkg.dev for any region
// or multi-region, and the four gcr.io hosts Artifact Registry serves;
// near misses stay unknown (a probe decides) or are Docker Hub's.
func TestDetectFlavorGAR(t *testing.T) {
	tests := []struct {
		host string
		want registry.Flavor
	}{
		{"us-docker.pkg.dev", registry.FlavorGAR},
		{"europe-docker.pkg.dev", registry.FlavorGAR},
		{"asia-docker.pkg.dev", registry.FlavorGAR},
		{"europe-west1-docker.pkg.dev", registry.FlavorGAR},
		{"northamerica-northeast1-docker.pkg.dev", registry.FlavorGAR},
		{"US-Central1-Docker.PKG.dev:443", registry.FlavorGAR},
		{"us-docker.pkg.dev.", registry.FlavorGAR},
		{"gcr.io", registry.FlavorGAR},
		{"us.gcr.io", registry.FlavorGAR},
		{"eu.gcr.io", registry.FlavorGAR},
		{"asia.gcr.io", registry.FlavorGAR},
		{"GCR.IO:443", registry.FlavorGAR},
		// Near misses.
		{"us-docker.pkg.dev.evil.example", registry.FlavorUnknown},
		{"evil.example/us-docker.pkg.dev", registry.FlavorUnknown},
		{"docker.pkg.dev", registry.FlavorUnknown},
		{"-docker.pkg.dev", registry.FlavorUnknown},
		{"us--docker.pkg.dev", registry.FlavorUnknown},
		{"us-docker-.pkg.dev", registry.FlavorUnknown},
		{"evil.us-docker.pkg.dev", registry.FlavorUnknown},
		{"us-maven.pkg.dev", registry.FlavorUnknown},
		{"us-docker.pkg.dev.example.com", registry.FlavorUnknown},
		{"pkg.dev", registry.FlavorUnknown},
		{"gcr.io.evil.example", registry.FlavorUnknown},
		{"evilgcr.io", registry.FlavorUnknown},
		{"mirror.gcr.io", registry.FlavorUnknown},
		{"k8s.gcr.io", registry.FlavorUnknown},
		{"eu.gcr.io.example.com", registry.FlavorUnknown},
		{"gcr.i0", registry.FlavorUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			assert.Equal(t, tc.want, registry.DetectFlavor(tc.host))
		})
	}
}
