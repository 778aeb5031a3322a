package pullcred

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/registry"
)

// AWSIdentity names the AWS identity the SDK's default chain resolves in
// env, as a hash ("aws:" and 64 hex digits) that spells out neither a key
// nor a file name. Cached ECR passwords are keyed by it, so that a change
// of keys, credentials or config file, profile or role never hands out
// another identity's password.
//
// The identity is what the SDK actually resolved, not what the environment
// names: the access key ID that Credentials.Retrieve returns (never the
// secret key), with the credential source, AWS_ROLE_ARN and the container
// credentials endpoint when set, and the profile and the config and
// credentials files in effect. For web identity set in the environment
// (IRSA) and no profile named, whose every Retrieve is an STS call issuing
// new keys, it is the role ARN and the hash of the token file's content,
// read without any call: a new or another token is another identity. With
// a profile named (AWS_PROFILE), the SDK may have resolved that profile's
// own role and token instead of the environment's, so the identity is what
// Retrieve returns.
//
// An error means the SDK resolves no credential; the caller then skips the
// cache and lets the API call report the problem.
func AWSIdentity(ctx context.Context, env registry.Env) (string, error) {
	cfg, err := ecrauth.LoadConfig(ctx, &registry.Options{Env: env})
	if err != nil {
		return "", err
	}
	if cfg.Credentials == nil {
		return "", fmt.Errorf("aws identity: no credentials configured")
	}
	profile := env.Get("AWS_PROFILE")
	if profile == "" {
		profile = env.Get("AWS_DEFAULT_PROFILE")
	}
	parts := []string{
		"role=" + env.Get("AWS_ROLE_ARN"),
		"container=" + env.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI") + "|" + env.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
		"profile=" + profile,
		"files=" + env.Get("AWS_CONFIG_FILE") + "|" + env.Get("AWS_SHARED_CREDENTIALS_FILE"),
	}
	if tokenFile := env.Get("AWS_WEB_IDENTITY_TOKEN_FILE"); tokenFile != "" && env.Get("AWS_ROLE_ARN") != "" && profile == "" &&
		aws.IsCredentialsProvider(cfg.Credentials, (*stscreds.WebIdentityRoleProvider)(nil)) {
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("aws identity: reading AWS_WEB_IDENTITY_TOKEN_FILE: %w", err)
		}
		sum := sha256.Sum256(token)
		parts = append(parts, "web-identity-token="+hex.EncodeToString(sum[:]))
	} else {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return "", fmt.Errorf("aws identity: %w", err)
		}
		if creds.AccessKeyID == "" {
			return "", fmt.Errorf("aws identity: the resolved credentials have no access key ID")
		}
		parts = append(parts, "access-key="+creds.AccessKeyID, "source="+creds.Source)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "aws:" + hex.EncodeToString(sum[:]), nil
}
