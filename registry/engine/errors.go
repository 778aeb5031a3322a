package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// This file maps every answer and failure to a typed *registry.Error (or
// *registry.ConfigError): registry answers, token-service answers, probe
// answers, transport failures and credential failures. Remote text that
// enters an error is scrubbed of secrets, bounded and stripped of control
// characters ([sanitize], [scrub]).

// maxRemoteText bounds the text of a remote answer kept in an error.
const maxRemoteText = 200

// registryErrors is the distribution spec's error body.
type registryErrors struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// answerError maps a failed registry answer to a *registry.Error: 401 is
// unauthorized, 403 denied, 404 not found, 429 rate limited (with its
// Retry-After), 5xx unavailable, an answer the flavor calls a token
// rejection (rejected) unauthorized, anything else a bad response. The
// body is read within a small bound and closed.
func answerError(resp *http.Response, op, image, hint string, rejected bool, now time.Time, secrets secretSet) *registry.Error {
	e := &registry.Error{Op: op, Image: image, StatusCode: resp.StatusCode}
	if resp.Request != nil && resp.Request.Method != http.MethodHead {
		body, _ := readBody(resp, maxErrorBody)
		e.Code, e.Detail, _ = registryErrorsOf(body, secrets)
	} else {
		drain(resp)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind, e.Hint = registry.ErrUnauthorized, hint
	case code == http.StatusForbidden:
		e.Kind, e.Hint = registry.ErrDenied, hint
	case code == http.StatusNotFound:
		e.Kind = registry.ErrNotFound
	case code == http.StatusTooManyRequests:
		rateLimited(e, resp.Header, now)
	// A 400 DENIED is ECR Public's refusal of a token (its driver declares
	// it as Rejected, so it is retried with a new one); it is mapped here for
	// every flavor since no registry is known to mean anything else by it.
	case rejected || (code == http.StatusBadRequest && e.Code == "DENIED"):
		e.Kind, e.Hint = registry.ErrUnauthorized, hint
	case code >= 500:
		e.Kind = registry.ErrUnavailable
	default:
		e.Kind = registry.ErrBadResponse
	}
	if e.Kind == registry.ErrNotFound && (e.Code == "NAME_UNKNOWN" || e.Code == "MANIFEST_UNKNOWN") {
		e.Detail = ""
	}
	return e
}

// rateLimited makes e the error of a 429: when to retry (Retry-After) and,
// where the registry reports its pull limit, what is left of it.
func rateLimited(e *registry.Error, h http.Header, now time.Time) {
	e.Kind = registry.ErrRateLimited
	if ra, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		e.RetryAfter = ra
	}
	if p, ok := parsePullLimit(h); ok {
		e.Hint = p.hint()
	}
}

// transportError wraps a failure to reach a server, keeping typed errors.
func transportError(err error, op, image string) error {
	var re *registry.Error
	if errors.As(err, &re) {
		if re.Op == "" {
			re.Op = op
		}
		if re.Image == "" {
			re.Image = image
		}
		return err
	}
	var ce *registry.ConfigError
	if errors.As(err, &ce) {
		return err
	}
	return &registry.Error{Kind: registry.ErrUnavailable, Op: op, Image: image, Err: sanitizedError{err}}
}

// pingError maps a /v2/ answer that is neither 200 nor 401.
func pingError(resp *http.Response, host string, o *registry.Options) error {
	e := &registry.Error{Kind: registry.ErrBadResponse, Op: "ping", Image: host, StatusCode: resp.StatusCode,
		Err: errors.New("GET /v2/ answered neither 200 nor 401; is this an OCI registry?")}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind, e.Err = registry.ErrRateLimited, nil
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), o.Now().Now()); ok {
			e.RetryAfter = ra
		}
	case resp.StatusCode >= 500:
		e.Kind, e.Err = registry.ErrUnavailable, nil
	}
	return e
}

// unsupportedChallenge reports a 401 without a Bearer or Basic challenge.
func unsupportedChallenge(resp *http.Response, host string) error {
	h := strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
	return &registry.Error{Kind: registry.ErrUnsupported, Op: "ping", Image: host, StatusCode: resp.StatusCode,
		Err: fmt.Errorf("unrecognised authentication challenge %s; registrykit speaks Bearer and Basic", quoteRemote(h))}
}

// registryErrorsOf reads the first entry of a distribution errors body
// ({"errors":[{"code":…,"message":…}]}), sanitized and scrubbed of secrets;
// ok is false when body is not one.
func registryErrorsOf(body []byte, secrets secretSet) (code, detail string, ok bool) {
	var re registryErrors
	if json.Unmarshal(body, &re) != nil || len(re.Errors) == 0 {
		return "", "", false
	}
	return Sanitize(secrets.scrub(re.Errors[0].Code)), Sanitize(secrets.scrub(re.Errors[0].Message)), true
}

// tokenAnswerError maps a failed token-service answer.
func tokenAnswerError(resp *http.Response, realmHost, host string, now time.Time, secrets secretSet) error {
	e := &registry.Error{Op: "token", Image: host, StatusCode: resp.StatusCode}
	body, _ := readBody(resp, maxErrorBody)
	var ok bool
	if e.Code, e.Detail, ok = registryErrorsOf(body, secrets); !ok {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Details     string `json:"details"`
		}
		if json.Unmarshal(body, &oe) == nil {
			e.Code = Sanitize(secrets.scrub(oe.Error))
			e.Detail = Sanitize(secrets.scrub(oe.Description + oe.Details))
		}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind = registry.ErrUnauthorized
	case code == http.StatusForbidden:
		e.Kind = registry.ErrDenied
	case code == http.StatusTooManyRequests:
		e.Kind = registry.ErrRateLimited
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			e.RetryAfter = ra
		}
	case code == http.StatusNotFound:
		e.Kind, e.Err = registry.ErrBadResponse, fmt.Errorf("token service %s has no such endpoint", realmHost)
	case code >= 500:
		e.Kind, e.Err = registry.ErrUnavailable, fmt.Errorf("token service %s failed", realmHost)
	default:
		e.Kind = registry.ErrBadResponse
	}
	return e
}

// tokenBodyError maps a token answer that could not be used.
func tokenBodyError(err error, realmHost, host string) error {
	if errors.Is(err, errTooLarge) {
		return &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: fmt.Errorf("token service %s: %w", realmHost, errTooLarge)}
	}
	if err != nil {
		return &registry.Error{Kind: registry.ErrUnavailable, Op: "token", Image: host, Err: fmt.Errorf("token service %s: %w", realmHost, sanitizedError{err})}
	}
	return &registry.Error{Kind: registry.ErrBadResponse, Op: "token", Image: host, Err: fmt.Errorf("token service %s returned no usable token", realmHost)}
}

// credentialError maps a failure to resolve the credential of host.
func credentialError(err error, host, hint string) error {
	switch {
	case errors.Is(err, authn.ErrIncompleteCredential):
		return &registry.Error{Kind: registry.ErrInvalidConfig, Op: "credentials", Image: host, Err: err}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return &registry.Error{Kind: registry.ErrUnavailable, Op: "credentials", Image: host, Err: err}
	}
	var re *registry.Error
	if errors.As(err, &re) {
		return err
	}
	return &registry.Error{Kind: registry.ErrUnauthorized, Op: "credentials", Image: host, Err: sanitizedError{err}, Hint: hint}
}

// withHint returns err with hint added when it is an authentication error
// without one. It never modifies err: a token error may be shared by every
// waiter of one fetch.
func withHint(err error, hint string) error {
	var e *registry.Error
	if hint == "" || !errors.As(err, &e) || e.Hint != "" || (e.Kind != registry.ErrUnauthorized && e.Kind != registry.ErrDenied) {
		return err
	}
	c := *e
	c.Hint = hint
	return &c
}

// secretSet is the secrets of one credential, in every form a remote might
// echo them: raw, base64 of user:password (standard and URL alphabets, with
// and without padding), URL-encoded, and the Authorization header values.
type secretSet []string

func secretsOf(cred authn.Credential, token string) secretSet {
	var raw []string
	for _, s := range []string{cred.Password, cred.IdentityToken, cred.RegistryToken, token} {
		if len(s) >= 4 {
			raw = append(raw, s)
		}
	}
	if cred.Password != "" {
		pair := cred.Username + ":" + cred.Password
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			raw = append(raw, enc.EncodeToString([]byte(pair)))
		}
	}
	var out secretSet
	for _, s := range raw {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		if len(s) > 12 {
			out = append(out, s[:len(s)*3/4]) // a truncated echo
		}
	}
	return out
}

// secretsOfToken returns the forms of a token sent in an Authorization
// header: the token itself and, for a Basic token, the credential inside.
func secretsOfToken(tok *oauth2.Token) secretSet {
	if tok == nil || tok.AccessToken == "" {
		return nil
	}
	var cred authn.Credential
	if strings.EqualFold(tok.Type(), "Basic") {
		if raw, err := base64.StdEncoding.DecodeString(tok.AccessToken); err == nil {
			cred.Username, cred.Password, _ = strings.Cut(string(raw), ":")
		}
	}
	return secretsOf(cred, tok.AccessToken)
}

// scrub replaces every appearance of the secrets in s, in any ASCII case,
// with REDACTED. The match folds ASCII letters only, so that byte offsets in
// s and in the secret agree whatever other characters s holds.
func (ss secretSet) scrub(s string) string {
	for _, secret := range ss {
		if secret == "" {
			continue
		}
		for from := 0; ; {
			i := indexFoldASCII(s[from:], secret)
			if i < 0 {
				break
			}
			i += from
			s = s[:i] + authn.Redacted + s[i+len(secret):]
			from = i + len(authn.Redacted)
		}
	}
	return s
}

// indexFoldASCII is strings.Index with ASCII letters compared regardless of
// case; every other byte must match exactly.
func indexFoldASCII(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		match := true
		for j := 0; j < n; j++ {
			if lowerASCII(s[i+j]) != lowerASCII(sub[j]) {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Sanitize makes text a remote party sent safe to print in an error: it is
// trimmed and bounded to 200 characters, and control characters
// (terminal escapes, C1, bidirectional controls) become spaces. A driver
// quoting an answer from elsewhere (a cloud API) uses it too.
func Sanitize(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= maxRemoteText {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Bidi_Control, r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// quoteRemote quotes remote text for an error, bounded and sanitized.
func quoteRemote(s string) string { return strconv.Quote(Sanitize(s)) }

// sanitizedError is an error whose text is sanitized when printed.
type sanitizedError struct{ err error }

func (e sanitizedError) Error() string { return Sanitize(e.err.Error()) }
func (e sanitizedError) Unwrap() error { return e.err }

// withRealmFix adds the flavor's fix to a refused realm's error.
func withRealmFix(err error, fix string) error {
	var e *registry.Error
	if fix == "" || !errors.As(err, &e) || e.Kind != registry.ErrInsecure || e.Hint != "" {
		return err
	}
	c := *e
	c.Hint = fix
	return &c
}
