package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every [*Error] matches exactly one of them through
// errors.Is; errors.As gives the details. A [*ConfigError] matches
// ErrInvalidConfig and, where its Kind says so, one more precise sentinel.
var (
	// ErrInvalidConfig reports a configuration value that cannot be used, such
	// as a malformed MOLECULE_IMAGE_REGISTRY. See [ConfigError].
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrNotFound reports a repository, tag or digest the registry does not have.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized reports missing, wrong or expired credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDenied reports valid credentials that lack permission.
	ErrDenied = errors.New("denied")
	// ErrRateLimited reports a registry or API that asked the caller to slow
	// down; [RetryAfter] tells for how long.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnsupported reports an operation or flavor that has no implementation,
	// or a registry answer this library does not understand.
	ErrUnsupported = errors.New("unsupported")
	// ErrUnavailable reports a registry or token service that could not be
	// reached or answered with a server error (5xx) after retries.
	ErrUnavailable = errors.New("registry unavailable")
	// ErrInsecure reports a request refused because it would send credentials
	// over plain HTTP or to a host that must not receive them.
	ErrInsecure = errors.New("refused insecure destination")
	// ErrBadResponse reports a registry answer that violates the protocol,
	// such as a malformed digest, a digest that does not match the content,
	// or a body over the size this library reads (the error says which).
	ErrBadResponse = errors.New("bad registry response")
)

// Error is the detailed form of every error a registry operation returns.
// It matches its Kind through errors.Is and unwraps to its Err.
type Error struct {
	// Kind is one of the sentinel errors of this package.
	Kind error
	// Op names the operation: "manifest digest", "token", "ping".
	Op string
	// Image is the reference involved, e.g. "ghcr.io/molecule-ai/x:latest".
	Image string
	// StatusCode is the HTTP status the registry answered, when there was one.
	StatusCode int
	// Code is the registry's error code ("MANIFEST_UNKNOWN", "DENIED"), if any.
	Code string
	// Detail is the registry's message, shortened. It never holds a secret:
	// this library does not echo request headers.
	Detail string
	// Hint says how to fix the problem ("set GHCR_USER and GHCR_TOKEN").
	Hint string
	// RetryAfter is how long the registry asked to wait (rate limiting).
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.Image != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Image)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("registry error")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
		b.WriteString(")")
	} else if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

// Is reports whether target is the Kind of e.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ConfigError reports an unusable configuration value. It matches
// [ErrInvalidConfig] through
// errors.Is, and its message quotes the value, names the variable and says
// the fix.
type ConfigError struct {
	// Var names the setting, e.g. "MOLECULE_IMAGE_REGISTRY".
	Var string
	// Value is the offending value, with any user:password part redacted.
	Value string
	// Reason says what is wrong with it.
	Reason string
	// Fix says what to do instead.
	Fix string
	// Kind is ErrInvalidConfig unless set to a more precise sentinel.
	Kind error
}

// Error implements error.
func (e *ConfigError) Error() string {
	v := e.Var
	if v == "" {
		v = "value"
	}
	msg := fmt.Sprintf("invalid %s %q: %s", v, e.Value, e.Reason)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Is reports whether target is ErrInvalidConfig or the more precise Kind.
func (e *ConfigError) Is(target error) bool {
	return target == ErrInvalidConfig || (e.Kind != nil && target == e.Kind)
}
