package acrtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// jwt returns an unsigned-looking JWT carrying claims (the clients read the
// claims, never the signature).
func jwt(claims map[string]any) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return head + "." + base64.RawURLEncoding.EncodeToString(body) + ".c2ln"
}

// claimsOf decodes tok's payload; nil when tok is not a JWT.
func claimsOf(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c map[string]any
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	return c
}
