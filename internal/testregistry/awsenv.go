package testregistry

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SetAWSEnv points the AWS SDK's default chain at an imitation API for the
// rest of t: static keys from creds (none when creds is zero), endpointVar
// (such as AWS_ENDPOINT_URL_ECR) set to endpoint, and nothing from this
// machine — no shared config or credentials files, no profile, no CA
// bundle, no instance metadata — so the chain never leaves loopback.
func SetAWSEnv(t testing.TB, creds aws.Credentials, endpointVar, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_CA_BUNDLE":                          "",
		"AWS_PROFILE":                            "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_SESSION_TOKEN":                      creds.SessionToken,
		"AWS_ACCESS_KEY_ID":                      creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":                  creds.SecretAccessKey,
		"AWS_MAX_ATTEMPTS":                       "1",
	} {
		t.Setenv(k, v)
	}
	if endpointVar != "" {
		t.Setenv(endpointVar, endpoint)
	}
}
