package engine

import (
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/stretchr/testify/assert"
)

// Case-insensitive scrubbing must not be thrown off by characters whose
// lowercase takes another number of bytes (Ⱥ grows, the Kelvin sign
// shrinks): no panic, and no part of the secret left.
func TestScrubWithUnicodeAround(t *testing.T) {
	secret := "Hunter2-Secret-Value"
	ss := secretsOf(authn.Credential{Username: "u", Password: secret}, "")
	for _, prefix := range []string{"Ⱥ ", "KKKK ", "İİ ", "ẞ ", ""} {
		for _, echo := range []string{secret, strings.ToUpper(secret), strings.ToLower(secret)} {
			out := ss.scrub(prefix + echo + " and again " + echo)
			assert.NotContains(t, strings.ToLower(out), strings.ToLower(secret), prefix)
			assert.Equal(t, 2, strings.Count(out, authn.Redacted), prefix+echo)
		}
	}
}
