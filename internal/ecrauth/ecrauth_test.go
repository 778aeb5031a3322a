package ecrauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/molecule-ai/registrykit/internal/ecrauth"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeToken(t *testing.T) {
	c, err := ecrauth.DecodeToken(base64.StdEncoding.EncodeToString([]byte("AWS:pa:ss")))
	require.NoError(t, err)
	assert.Equal(t, "AWS", c.Username)
	assert.Equal(t, "pa:ss", c.Password)
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString([]byte("nocolon")), base64.StdEncoding.EncodeToString([]byte("AWS:")), base64.StdEncoding.EncodeToString([]byte(":pw"))} {
		_, err := ecrauth.DecodeToken(bad)
		assert.Error(t, err, bad)
	}
	_, err = ecrauth.DecodeToken(base64.StdEncoding.EncodeToString([]byte("AWSsecretpw")))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secretpw")
}

func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{"", base64.StdEncoding.EncodeToString([]byte("AWS:pw")), "QVdTOg==", "=", "QVdT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ecrauth.DecodeToken(s)
		if err != nil {
			if strings.Contains(err.Error(), s) && len(s) > 3 {
				t.Fatalf("error echoes the token: %v", err)
			}
			return
		}
		if c.Username == "" || c.Password == "" {
			t.Fatalf("decoded an empty part from %q", s)
		}
		again, err := ecrauth.DecodeToken(base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)))
		if err != nil || again != c {
			t.Fatalf("round trip of %q failed: %+v %v", s, again, err)
		}
	})
}

func TestAPIError(t *testing.T) {
	cases := []struct {
		err  error
		kind error
		text string
	}{
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}, registry.ErrDenied, "ecr:GetAuthorizationToken"},
		{&smithy.GenericAPIError{Code: "UnrecognizedClientException"}, registry.ErrUnauthorized, "us-east-2"},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, registry.ErrRateLimited, "rate limited"},
		{&smithy.GenericAPIError{Code: "ServerException"}, registry.ErrBadResponse, "ServerException"},
		{errors.New("operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh cached credentials"), registry.ErrUnauthorized, "AWS_WEB_IDENTITY_TOKEN_FILE"},
		{errors.New("dial tcp: lookup api.ecr.us-east-2.amazonaws.com: no such host"), registry.ErrUnavailable, "could not be reached"},
	}
	for _, tc := range cases {
		err := ecrauth.APIError(tc.err, "123456789012.dkr.ecr.us-east-2.amazonaws.com", "us-east-2", "ecr:GetAuthorizationToken")
		assert.ErrorIs(t, err, tc.kind, tc.err.Error())
		assert.Contains(t, err.Error(), tc.text)
	}
}

func TestLazyRetriesAFailureAndKeepsASuccess(t *testing.T) {
	calls := 0
	boom := errors.New("malformed shared config")
	l := ecrauth.NewLazy(func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", boom
		}
		return "client", nil
	})
	_, err := l.Get(context.Background())
	require.ErrorIs(t, err, boom)
	for range 3 {
		v, err := l.Get(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "client", v)
	}
	assert.Equal(t, 2, calls, "one failure, one success, then the kept client")

	v, err := ecrauth.Ready("given").Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "given", v)
}

func TestEndpointComesFromAnExplicitEnvironmentOnly(t *testing.T) {
	env := registry.EnvMap(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:2"})
	assert.Equal(t, "http://127.0.0.1:2", ecrauth.Endpoint(env, "ECR"))
	assert.Equal(t, "http://127.0.0.1:1", ecrauth.Endpoint(env, "ECR_PUBLIC"))
	assert.Empty(t, ecrauth.Endpoint(registry.Env{}, "ECR"), "the SDK reads the process environment itself")
}

func TestSanitizeHidesKeysAndTokens(t *testing.T) {
	session := "IQoJb3JpZ2luX2VjEHwaCXVzLWVhc3QtMSJHMEUCIQD" + strings.Repeat("x", 200)
	msg := "The security token included in the request is invalid: " + session + " key AKIDSUITE01234567890 secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\x1b[2J"
	out := ecrauth.Sanitize(msg)
	assert.NotContains(t, out, "IQoJb3JpZ2lu")
	assert.NotContains(t, out, "wJalrXUtnFEMI")
	assert.NotContains(t, out, "AKIDSUITE01234567890")
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, "The security token included in the request is invalid")
	assert.LessOrEqual(t, utf8.RuneCountInString(out), 200+1)
	assert.True(t, utf8.ValidString(out))
	// Bidirectional controls and C1 controls are neutralised too.
	assert.Equal(t, "a b c", ecrauth.Sanitize("a\u202eb\u0085c"))

	err := ecrauth.APIError(&smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: msg}, "h", "us-east-2", "ecr:GetAuthorizationToken")
	assert.NotContains(t, err.Error(), "IQoJb3JpZ2lu")
	assert.NotContains(t, err.Error(), "wJalrXUtnFEMI")
}

func TestToken(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	good := base64.StdEncoding.EncodeToString([]byte("AWS:password"))
	bad := "not base64!"
	expires := now.Add(time.Hour)
	for _, tc := range []struct {
		name      string
		token     *string
		expiresAt *time.Time
		want      time.Time // the expiry; zero: an error
	}{
		{"with its expiry", &good, &expires, expires},
		{"no expiry: 12 h", &good, nil, now.Add(12 * time.Hour)},
		{"no token", nil, &expires, time.Time{}},
		{"malformed", &bad, nil, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ecrauth.Token(tc.token, tc.expiresAt, now, "123456789012.dkr.ecr.us-east-2.amazonaws.com")
			if tc.want.IsZero() {
				require.ErrorIs(t, err, registry.ErrBadResponse)
				assert.Contains(t, err.Error(), "123456789012.dkr.ecr.us-east-2.amazonaws.com")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Basic", tok.Type())
			assert.Equal(t, good, tok.AccessToken)
			assert.Equal(t, tc.want, tok.Expiry)
		})
	}
}

// The AWS SDK's own log lines go to the backend's logger at debug level, not
// to stderr: an instance-metadata endpoint that refuses IMDSv2 tokens makes
// the SDK warn "falling back to IMDSv1" (feature/ec2/imds
// token_provider.go, on a 403, 404 or 405 to PUT /latest/api/token).
func TestSDKLogsGoToTheLogger(t *testing.T) {
	imdsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r) // no token, no role
	}))
	defer imdsSrv.Close()
	registrytest.SetAWSEnv(t, aws.Credentials{}, "AWS_EC2_METADATA_SERVICE_ENDPOINT", imdsSrv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_REGION", "us-east-2")
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := ecrauth.LoadConfig(context.Background(), &registry.Options{Env: registry.Env{}, Logger: log})
	require.NoError(t, err)
	_, err = cfg.Credentials.Retrieve(context.Background())
	require.Error(t, err, "no credentials anywhere")
	assert.Contains(t, buf.String(), "falling back to IMDSv1")
	assert.Contains(t, buf.String(), "level=DEBUG")
	assert.Contains(t, buf.String(), "classification=WARN")
}
