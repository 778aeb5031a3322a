// Package ecrauth holds what the two ECR drivers share: decoding the
// authorization token the ECR APIs return, loading the AWS configuration
// through the SDK's default chain, and mapping SDK errors to registrykit's
// typed errors.
package ecrauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
	"golang.org/x/oauth2"
)

// DecodeToken decodes an ECR authorization token, base64 of
// "AWS:<password>", into the credential a Docker client presents.
func DecodeToken(token string) (authn.Credential, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return authn.Credential{}, errors.New("authorization token is not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return authn.Credential{}, errors.New("authorization token is not user:password")
	}
	return authn.Credential{Username: user, Password: pass}, nil
}

// defaultTokenLife is how long an authorization token lives when the API
// says no expiry: 12 hours, the validity the ECR and ECR Public API
// references give for GetAuthorizationToken.
const defaultTokenLife = 12 * time.Hour

// Token returns the token that sends an authorization token from
// GetAuthorizationToken (its AuthorizationToken and ExpiresAt) as HTTP Basic
// credentials — it is already base64 of "AWS:<password>" — expiring at
// expiresAt, or 12 hours after now when the API says nothing. An
// absent or malformed token is a registry.ErrBadResponse naming host.
func Token(authorizationToken *string, expiresAt *time.Time, now time.Time, host string) (*oauth2.Token, error) {
	if authorizationToken == nil {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: errors.New("GetAuthorizationToken returned no authorization data")}
	}
	raw := *authorizationToken
	if _, err := DecodeToken(raw); err != nil {
		return nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: err}
	}
	tok := &oauth2.Token{AccessToken: raw, TokenType: "Basic", Expiry: now.Add(defaultTokenLife)}
	if expiresAt != nil {
		tok.Expiry = *expiresAt
	}
	return tok, nil
}

// ChainHint names the places the AWS SDK's default chain searched.
const chainHint = "no AWS credentials were found; the SDK's default chain searched the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), " +
	"the shared config and credentials files (AWS_PROFILE, SSO), web identity (AWS_WEB_IDENTITY_TOKEN_FILE, as IRSA sets it), " +
	"the ECS container role and the EC2 instance role"

// APIError maps an error from an ECR API call to a *registry.Error naming
// the cause and the fix. action is the IAM action the call needs.
func APIError(err error, host, region, action string) error {
	e := &registry.Error{Op: "token", Image: host, Err: err}
	var apiErr smithy.APIError
	var missingRegion *aws.MissingRegionError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Kind = registry.ErrUnavailable
	case errors.As(err, &missingRegion):
		e.Kind, e.Hint = registry.ErrInvalidConfig, "set AWS_REGION, or use an ECR host that names its region"
	case errors.As(err, &apiErr):
		e.Code, e.Detail, e.Err = sanitize(apiErr.ErrorCode()), sanitize(apiErr.ErrorMessage()), nil
		switch code := apiErr.ErrorCode(); {
		case code == "AccessDeniedException" || code == "AccessDenied":
			e.Kind, e.Hint = registry.ErrDenied, "grant the IAM action "+action+" to the AWS identity in use"
		case code == "UnrecognizedClientException" || code == "InvalidSignatureException" || code == "ExpiredTokenException" || code == "InvalidClientTokenId":
			e.Kind, e.Hint = registry.ErrUnauthorized, "check the AWS credentials, and that the region "+region+" is the registry's"
		case strings.Contains(code, "Throttl") || code == "TooManyRequestsException":
			e.Kind = registry.ErrRateLimited
		default:
			e.Kind = registry.ErrBadResponse
		}
	case strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "get identity"):
		e.Kind, e.Hint, e.Err = registry.ErrUnauthorized, chainHint, errors.New("no AWS credentials")
	default:
		e.Kind, e.Err = registry.ErrUnavailable, errors.New(sanitize(err.Error()))
		e.Hint = fmt.Sprintf("the ECR API endpoint for region %s could not be reached; check the network, AWS_ENDPOINT_URL_ECR, and that the region is right", region)
	}
	return e
}

// Sanitize makes text from an AWS answer safe to put in an error: every run
// of 20 or more characters that could be a key, a session token or a
// password (letters, digits, + / = _ -) is replaced by REDACTED, then the
// text is sanitized as the engine sanitizes a registry's (engine.Sanitize:
// control characters become spaces, the text is bounded).
func sanitize(s string) string {
	var b strings.Builder
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && secretChar(s[i]) {
			run++
			continue
		}
		if run > 0 {
			if word := s[i-run : i]; len(word) >= 20 {
				b.WriteString("REDACTED")
			} else {
				b.WriteString(word)
			}
			run = 0
		}
		if i < len(s) {
			b.WriteByte(s[i])
		}
	}
	return engine.Sanitize(b.String())
}

func secretChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-'
}
