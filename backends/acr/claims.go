package acr

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// claims are the JWT claims the driver reads, unverified: tid of an Entra
// ID access token (the tenant /oauth2/exchange asks for) and exp of an ACR
// refresh token (how long to keep it).
type claims struct {
	Tenant string      `json:"tid"`
	Exp    json.Number `json:"exp"`
}

// readClaims decodes tok's payload; the zero claims when tok is not a JWT.
func readClaims(tok string) claims {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return claims{}
	}
	return c
}

// expiry returns the time exp states, or the zero time when it states none
// (or one not after now).
func (c claims) expiry(now time.Time) time.Time {
	secs, err := c.Exp.Int64()
	if err != nil {
		return time.Time{}
	}
	exp := time.Unix(secs, 0)
	if !exp.After(now) {
		return time.Time{}
	}
	return exp
}
