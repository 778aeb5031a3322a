package authn

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/oauth2"
)

// RedactedToken wraps an *oauth2.Token for printing and logging: its type and
// expiry show, its access and refresh tokens never do. oauth2.Token itself
// prints its secrets through fmt; wrap it with [Redact] before it reaches a
// log or an error.
type RedactedToken struct{ Token *oauth2.Token }

// Redact wraps tok for printing and logging.
func Redact(tok *oauth2.Token) RedactedToken { return RedactedToken{tok} }

// String describes the token without its secrets.
func (r RedactedToken) String() string {
	if r.Token == nil {
		return "<nil token>"
	}
	exp := "never"
	if !r.Token.Expiry.IsZero() {
		exp = r.Token.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("Token{type=%s access_token=%s expiry=%s}", r.Token.Type(), redactNonEmpty(r.Token.AccessToken), exp)
}

// GoString is String, for %#v.
func (r RedactedToken) GoString() string { return r.String() }

// LogValue implements slog.LogValuer.
func (r RedactedToken) LogValue() slog.Value {
	if r.Token == nil {
		return slog.StringValue("<nil token>")
	}
	return slog.GroupValue(
		slog.String("type", r.Token.Type()),
		slog.String("access_token", redactNonEmpty(r.Token.AccessToken)),
		slog.Time("expiry", r.Token.Expiry),
	)
}

// MarshalJSON writes {"type":…,"expiry":…} and nothing secret.
func (r RedactedToken) MarshalJSON() ([]byte, error) {
	if r.Token == nil {
		return []byte("null"), nil
	}
	out := struct {
		Type   string     `json:"type"`
		Expiry *time.Time `json:"expiry,omitempty"`
	}{Type: r.Token.Type()}
	if !r.Token.Expiry.IsZero() {
		e := r.Token.Expiry.UTC()
		out.Expiry = &e
	}
	return json.Marshal(out)
}

func redactNonEmpty(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}
