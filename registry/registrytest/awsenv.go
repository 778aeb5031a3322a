package registrytest

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// AWSEnv returns the AWS variables of an environment that points the AWS
// SDK's default chain at an imitation API and at nothing on this machine:
// static keys from creds (none when creds is zero), endpointVar (such as
// AWS_ENDPOINT_URL_ECR) set to endpoint, shared config and credentials files
// in dir (which need not exist), no profile, no instance metadata. Merge it
// into the map given to registry.EnvMap: with an explicit environment
// the library reads nothing of the process's, so tests need not touch it.
func AWSEnv(dir string, creds aws.Credentials, endpointVar, endpoint string) map[string]string {
	env := map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ACCESS_KEY_ID":           creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":           creds.SessionToken,
		"AWS_MAX_ATTEMPTS":            "1",
	}
	if endpointVar != "" {
		env[endpointVar] = endpoint
	}
	return env
}

// SetAWSEnv sets the variables of [AWSEnv] in the process environment for
// the rest of t, and blanks the others the SDK reads (AWS_PROFILE, web
// identity, container credentials, AWS_CA_BUNDLE). It is for code that uses
// the process environment; a test that can pass an explicit environment
// should use AWSEnv instead.
func SetAWSEnv(t testing.TB, creds aws.Credentials, endpointVar, endpoint string) {
	t.Helper()
	for k, v := range AWSEnv(t.TempDir(), creds, endpointVar, endpoint) {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
}
