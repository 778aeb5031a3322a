package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNoCredential is returned by a [Source] that has no credential for the
// host asked about; a [Chain] moves on to its next source.
var ErrNoCredential = errors.New("no credential")

// ErrIncompleteCredential reports a half-configured credential, such as a
// user name without its token. It is a configuration error, not a reason to
// fall back to anonymous access.
var ErrIncompleteCredential = errors.New("incomplete credential")

// Source yields the credential to present to a registry host.
type Source interface {
	// Resolve returns the credential for host ("ghcr.io", "127.0.0.1:5000"),
	// or an error matching ErrNoCredential when the source has none.
	Resolve(ctx context.Context, host string) (Credential, error)
}

// SourceFunc adapts a function to [Source].
type SourceFunc func(ctx context.Context, host string) (Credential, error)

// Resolve calls f.
func (f SourceFunc) Resolve(ctx context.Context, host string) (Credential, error) {
	return f(ctx, host)
}

// Anonymous is the source of anonymous access: it always yields the zero
// Credential.
var Anonymous Source = SourceFunc(func(context.Context, string) (Credential, error) {
	return Credential{}, nil
})

// Static yields c for every host.
func Static(c Credential) Source {
	return SourceFunc(func(context.Context, string) (Credential, error) { return c, nil })
}

// Chain yields the credential of the first source that has one. Any error
// other than ErrNoCredential stops the chain and is returned. A chain whose
// sources all have none returns ErrNoCredential; end it with [Anonymous] to
// fall back to anonymous access.
func Chain(sources ...Source) Source {
	return SourceFunc(func(ctx context.Context, host string) (Credential, error) {
		for _, s := range sources {
			if s == nil {
				continue
			}
			c, err := s.Resolve(ctx, host)
			if errors.Is(err, ErrNoCredential) {
				continue
			}
			return c, err
		}
		return Credential{}, ErrNoCredential
	})
}

// Env yields Username and Password from a pair of environment variables,
// such as GHCR_USER and GHCR_TOKEN, looked up with lookup (os.LookupEnv for
// the process environment). Values are trimmed. Both unset or blank yields
// ErrNoCredential; exactly one set is an error matching
// ErrIncompleteCredential that names the missing variable.
func Env(userVar, secretVar string, lookup func(string) (string, bool)) Source {
	return SourceFunc(func(context.Context, string) (Credential, error) {
		get := func(k string) string {
			if lookup == nil {
				return ""
			}
			v, _ := lookup(k)
			return strings.TrimSpace(v)
		}
		user, secret := get(userVar), get(secretVar)
		switch {
		case user == "" && secret == "":
			return Credential{}, ErrNoCredential
		case user == "":
			return Credential{}, fmt.Errorf("%w: %s is set but %s is not; set both, or neither for anonymous access", ErrIncompleteCredential, secretVar, userVar)
		case secret == "":
			return Credential{}, fmt.Errorf("%w: %s is set but %s is not; set both, or neither for anonymous access", ErrIncompleteCredential, userVar, secretVar)
		}
		return Credential{Username: user, Password: secret}, nil
	})
}
