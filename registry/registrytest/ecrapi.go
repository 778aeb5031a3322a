package registrytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ECRAPIConfig configures an imitation ECR (or ECR Public) API.
type ECRAPIConfig struct {
	// Service is the SigV4 service name: "ecr" or "ecr-public".
	Service string
	// Region is the region requests must be signed for.
	Region string
	// Credentials are the only ones accepted.
	Credentials aws.Credentials
	// Issue returns a new password and its expiry for each token; typically
	// Server.IssueECRPassword with a clock.
	Issue func() (password string, expires time.Time)
	// Deny, when set, answers AccessDeniedException.
	Deny bool
}

// ECRAPI is an httptest server speaking the ECR GetAuthorizationToken
// operation (awsJson1_1). It verifies the X-Amz-Target header and recomputes
// each request's SigV4 signature with the SDK's signer.
type ECRAPI struct {
	cfg   ECRAPIConfig
	srv   *httptest.Server
	calls atomic.Int64

	mu     sync.Mutex
	errors []string
}

// NewECRAPI starts the API on loopback.
func NewECRAPI(cfg ECRAPIConfig) *ECRAPI {
	a := &ECRAPI{cfg: cfg}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// URL is the endpoint to give the SDK (BaseEndpoint, AWS_ENDPOINT_URL_ECR).
func (a *ECRAPI) URL() string { return a.srv.URL }

// Close stops the server.
func (a *ECRAPI) Close() { a.srv.Close() }

// Calls returns the number of well-formed, correctly signed calls.
func (a *ECRAPI) Calls() int64 { return a.calls.Load() }

// Errors returns what was wrong with rejected requests.
func (a *ECRAPI) Errors() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.errors...)
}

func (a *ECRAPI) target() string {
	if a.cfg.Service == "ecr-public" {
		return "SpencerFrontendService.GetAuthorizationToken"
	}
	return "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
}

func (a *ECRAPI) fail(w http.ResponseWriter, status int, code, msg string) {
	a.mu.Lock()
	a.errors = append(a.errors, code+": "+msg)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func (a *ECRAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if got := r.Header.Get("X-Amz-Target"); got != a.target() {
		a.fail(w, http.StatusBadRequest, "UnknownOperationException", "X-Amz-Target "+got)
		return
	}
	if err := verifySigV4(r, body, a.cfg.Credentials, a.cfg.Service, a.cfg.Region); err != nil {
		a.fail(w, http.StatusForbidden, "InvalidSignatureException", err.Error())
		return
	}
	a.calls.Add(1)
	if a.cfg.Deny {
		a.fail(w, http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken")
		return
	}
	pw, exp := a.cfg.Issue()
	data := map[string]any{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + pw)),
		"expiresAt":          float64(exp.UnixMilli()) / 1000,
	}
	var out any = map[string]any{"authorizationData": []any{data}}
	if a.cfg.Service == "ecr-public" {
		out = map[string]any{"authorizationData": data}
	} else {
		data["proxyEndpoint"] = "https://" + r.Host
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// VerifySigV4 checks that r (whose body was body) carries a SigV4
// signature by creds for service in region, by signing a copy with the
// SDK's own signer over the same signed headers and time and comparing.
func verifySigV4(r *http.Request, body []byte, creds aws.Credentials, service, region string) error {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return errors.New("not a SigV4 Authorization header")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] != creds.AccessKeyID || scope[2] != region || scope[3] != service || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q is not %s/…/%s/%s/aws4_request", fields["Credential"], creds.AccessKeyID, region, service)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errors.New("missing or malformed X-Amz-Date")
	}
	cp, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	cp.Header = http.Header{}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host":
			cp.Host = r.Host
		case "content-length":
		default:
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), service, region, when); err != nil {
		return err
	}
	if got, want := auth, cp.Header.Get("Authorization"); got != want {
		return fmt.Errorf("signature mismatch:\n got %s\nwant %s", got, want)
	}
	return nil
}
