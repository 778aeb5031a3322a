package engine

import (
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
)

// An index's manifest matches the platform asked for as Docker matches it:
// fields left empty are not compared, and arm64 without a variant is
// arm64/v8.
func TestPlatformMatches(t *testing.T) {
	amd := registry.Platform{OS: "linux", Architecture: "amd64"}
	arm := registry.Platform{OS: "linux", Architecture: "arm64"}
	armv8 := registry.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	assert.True(t, platformMatches(amd, amd))
	assert.False(t, platformMatches(amd, arm))
	assert.True(t, platformMatches(arm, armv8))
	assert.True(t, platformMatches(armv8, arm))
	assert.False(t, platformMatches(registry.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, registry.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}))
}
