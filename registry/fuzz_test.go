package registry_test

import (
	"strings"
	"testing"

	ihost "github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
)

// FuzzParsePrefix checks that parsing never panics and that a prefix that
// parses renders to a string that parses to the same prefix.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{
		"", "ghcr.io/molecule-ai", "123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai",
		"git.example.com/molecule-ai", "[::1]:5000/a/b", "127.0.0.1:5000", "localhost",
		"https://ghcr.io/x", "ghcr.io/x:latest", "a//b", "GHCR.IO/x/", "user:pw@host.example/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := registry.ParsePrefix(s)
		if err != nil {
			if p != (registry.Prefix{}) {
				t.Fatalf("error with a non-zero prefix for %q", s)
			}
			return
		}
		again, err := registry.ParsePrefix(p.String())
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, p.String(), err)
		}
		if again != p {
			t.Fatalf("%q parsed to %#v, re-parsed to %#v", s, p, again)
		}
		if strings.ContainsAny(p.String(), " \t\r\n@") || len(p.String()) > registry.MaxPrefixLength {
			t.Fatalf("parsed prefix %q has forbidden content", p.String())
		}
	})
}

// FuzzDetectFlavor checks that host classification never panics, that an
// ECR host's parts render back to it, and that detection agrees with
// ParseECRHost and with IsGAR.
func FuzzDetectFlavor(f *testing.F) {
	for _, s := range []string{
		"ghcr.io", "123456789012.dkr.ecr.us-east-2.amazonaws.com", "123456789012.dkr-ecr-fips.us-east-1.on.aws",
		"public.ecr.aws", "docker.io", "127.0.0.1:5000", "[::1]:5000", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
		"us-docker.pkg.dev", "europe-west1-docker.pkg.dev:443", "eu.gcr.io",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		flavor := registry.DetectFlavor(host)
		h, ok := ihost.ParseECR(host)
		if ok != (flavor == registry.FlavorECR) {
			t.Fatalf("DetectFlavor(%q) = %s but ParseECRHost ok = %v", host, flavor, ok)
		}
		if gar := ihost.IsGAR(host); gar != (flavor == registry.FlavorGAR) {
			t.Fatalf("DetectFlavor(%q) = %s but IsGAR = %v", host, flavor, gar)
		}
		if ok {
			sep := "."
			if h.DualStack {
				sep = "-"
			}
			fips := ""
			if h.FIPS {
				fips = "-fips"
			}
			rendered := h.Account + ".dkr" + sep + "ecr" + fips + "." + h.Region + "." + h.Suffix
			if back, ok := ihost.ParseECR(rendered); !ok || back != h {
				t.Fatalf("%q -> %+v renders to %q which parses to %+v", host, h, rendered, back)
			}
			if len(h.Account) != 12 || h.Partition() == "" {
				t.Fatalf("bad parts %+v", h)
			}
		}
	})
}
