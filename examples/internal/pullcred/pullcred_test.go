package pullcred_test

import (
	"testing"

	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/molecule-ai/registrykit/registry"
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

func TestAWSIdentity(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_PROFILE": "prod"}, "access-key:AKID"},
		{map[string]string{"AWS_PROFILE": "prod", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"}, "profile:prod"},
		{map[string]string{"AWS_DEFAULT_PROFILE": "old"}, "profile:old"},
		{map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"}, "role:arn:aws:iam::1:role/r"},
		{nil, "default"},
	} {
		assert.Equal(t, tc.want, pullcred.AWSIdentity(registry.EnvMap(tc.env)), "%v", tc.env)
	}
}
