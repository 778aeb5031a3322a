package pullcred_test

import (
	"testing"

	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/stretchr/testify/assert"
)

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"123456789012.dkr.ecr.us-east-2.amazonaws.com":             "123456789012.dkr.ecr.us-east-2.amazonaws.com",
		"https://123456789012.dkr.ecr.us-east-2.amazonaws.com":     "123456789012.dkr.ecr.us-east-2.amazonaws.com",
		"https://123456789012.DKR.ecr.us-east-2.amazonaws.com/v2/": "123456789012.dkr.ecr.us-east-2.amazonaws.com",
		" 127.0.0.1:5000\n":           "127.0.0.1:5000",
		"http://[::1]:5000/":          "[::1]:5000",
		"https://index.docker.io/v1/": "index.docker.io",
		"ghcr.io.":                    "ghcr.io",
		"ghcr.io/molecule-ai":         "ghcr.io",
		"":                            "",
		"[::1]":                       "[::1]",
		"https://bad host":            "", // not a URL: no host, never "https:"
		"ftp://ghcr.io":               "", // the credential helpers' parser refuses other schemes
	} {
		assert.Equal(t, want, pullcred.Host(in), "%q", in)
	}
}
