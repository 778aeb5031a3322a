package authn

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Redacted is what every secret prints as.
const Redacted = "REDACTED"

// Credential is what a client presents to a registry. The zero Credential is
// anonymous access.
//
// Its secrets (Password, IdentityToken, RegistryToken) print as REDACTED
// through fmt (every verb, including %#v), log/slog and encoding/json. Use
// the encoders of this package ([RegistryAuth], [DockerConfigJSON]) to hand
// a credential to another program.
type Credential struct {
	// Username is the account name ("AWS" for ECR).
	Username string
	// Password is the password, personal access token or ECR password.
	Password string
	// IdentityToken is an OAuth2 refresh token some registries issue at login.
	IdentityToken string
	// RegistryToken is a bearer token to present to the registry as is.
	RegistryToken string
}

// IsAnonymous reports whether c carries no credential at all.
func (c Credential) IsAnonymous() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == "" && c.RegistryToken == ""
}

// String describes c with its secrets redacted.
func (c Credential) String() string {
	if c.IsAnonymous() {
		return "anonymous"
	}
	var parts []string
	if c.Username != "" {
		parts = append(parts, "username="+strconv.Quote(c.Username))
	}
	for _, s := range []struct{ name, v string }{
		{"password", c.Password}, {"identity_token", c.IdentityToken}, {"registry_token", c.RegistryToken},
	} {
		if s.v != "" {
			parts = append(parts, s.name+"="+Redacted)
		}
	}
	return "Credential{" + strings.Join(parts, " ") + "}"
}

// GoString is like String, for %#v.
func (c Credential) GoString() string { return "authn." + c.String() }

// Format writes c with its secrets redacted, whatever the verb.
func (c Credential) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprint(f, strconv.Quote(c.String()))
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, c.GoString())
			return
		}
		fmt.Fprint(f, c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

// LogValue implements slog.LogValuer with the secrets redacted.
func (c Credential) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("username", c.Username)}
	if c.Password != "" {
		attrs = append(attrs, slog.String("password", Redacted))
	}
	if c.IdentityToken != "" {
		attrs = append(attrs, slog.String("identity_token", Redacted))
	}
	if c.RegistryToken != "" {
		attrs = append(attrs, slog.String("registry_token", Redacted))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes c with its secrets redacted. It exists so that a
// Credential embedded in a logged or served structure cannot leak; it is not
// a serialisation format.
func (c Credential) MarshalJSON() ([]byte, error) {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return Redacted
	}
	return json.Marshal(struct {
		Username      string `json:"username,omitempty"`
		Password      string `json:"password,omitempty"`
		IdentityToken string `json:"identity_token,omitempty"`
		RegistryToken string `json:"registry_token,omitempty"`
	}{c.Username, red(c.Password), red(c.IdentityToken), red(c.RegistryToken)})
}
