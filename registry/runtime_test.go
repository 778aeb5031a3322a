package registry_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultRuntimes(t *testing.T) {
	rts := registry.DefaultRuntimes()
	assert.Equal(t, []string{"autogen", "claude-code", "codex", "crewai", "deepagents", "gemini-cli", "hermes", "langgraph", "openclaw"}, rts)
	assert.True(t, slices.IsSorted(rts))
	rts[0] = "mutated"
	assert.Equal(t, "autogen", registry.DefaultRuntimes()[0], "DefaultRuntimes returns a copy")
}

func TestRuntimeImage(t *testing.T) {
	cases := []struct{ prefix, runtime, want string }{
		{"", "langgraph", "ghcr.io/molecule-ai/workspace-template-langgraph:latest"},
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", "claude-code", "123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai/workspace-template-claude-code:latest"},
		{"git.example.com/molecule-ai", "hermes", "git.example.com/molecule-ai/workspace-template-hermes:latest"},
		{"127.0.0.1:5000", "codex", "127.0.0.1:5000/workspace-template-codex:latest"},
		// Runtimes belong to the application: one the built-in list lacks works.
		{"", "my-runtime.v2", "ghcr.io/molecule-ai/workspace-template-my-runtime.v2:latest"},
	}
	for _, tc := range cases {
		got, err := registry.RuntimeImage(registry.MustParsePrefix(tc.prefix), tc.runtime)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"", "LangGraph", "a/b", "-x", "x-", "x y", "x:latest", "x@sha256"} {
		img, err := registry.RuntimeImage(registry.MustParsePrefix(""), bad)
		assert.Empty(t, img)
		require.ErrorIs(t, err, registry.ErrInvalidConfig, bad)
		assert.Contains(t, err.Error(), strconv.Quote(bad))
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := registry.ParsePlatform("linux/arm64/v8")
	require.NoError(t, err)
	assert.Equal(t, registry.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, p)
	for _, bad := range []string{"", "linux", "linux/", "/amd64", "a/b/c/d", "linux/amd64:x"} {
		_, err := registry.ParsePlatform(bad)
		require.ErrorIs(t, err, registry.ErrInvalidConfig, bad)
	}
}
