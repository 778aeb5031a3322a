package registry

import (
	"errors"
	"slices"
	"strings"
)

// DefaultRuntime is the runtime used when a caller names none.
const DefaultRuntime = "langgraph"

// RuntimeRepositoryPrefix is what a runtime name is appended to, below the
// registry prefix, to name its image repository.
const RuntimeRepositoryPrefix = "workspace-template-"

// RuntimeTag is the tag every runtime image is published under.
const RuntimeTag = "latest"

// ErrUnknownRuntime reports a runtime name that is not one of [Runtimes].
// It also matches [ErrInvalidConfig].
var ErrUnknownRuntime = errors.New("unknown runtime")

// runtimes is kept sorted; Runtimes returns a copy.
var runtimes = []string{
	"autogen", "claude-code", "codex", "crewai", "deepagents",
	"gemini-cli", "hermes", "langgraph", "openclaw",
}

// Runtimes returns the known workspace runtimes in alphabetical order. The
// slice is a fresh copy the caller may keep or modify.
func Runtimes() []string { return slices.Clone(runtimes) }

// IsRuntime reports whether name is a known runtime.
func IsRuntime(name string) bool {
	_, ok := slices.BinarySearch(runtimes, name)
	return ok
}

// RuntimeRepository returns the repository of runtime below the prefix,
// "workspace-template-<runtime>", or an error matching [ErrUnknownRuntime]
// that lists the known runtimes.
func RuntimeRepository(runtime string) (string, error) {
	if !IsRuntime(runtime) {
		return "", &ConfigError{
			Var: "runtime", Value: runtime, Kind: ErrUnknownRuntime,
			Reason: "unknown runtime",
			Fix:    "use one of " + strings.Join(runtimes, ", "),
		}
	}
	return RuntimeRepositoryPrefix + runtime, nil
}

// RuntimeImage returns "<prefix>/workspace-template-<runtime>:latest" for the
// prefix of b (a [Backend], or a [Prefix]), or an error for an unknown
// runtime. It never returns an empty string without an error.
func RuntimeImage(b interface{ Prefix() string }, runtime string) (string, error) {
	repo, err := RuntimeRepository(runtime)
	if err != nil {
		return "", err
	}
	return b.Prefix() + "/" + repo + ":" + RuntimeTag, nil
}

// RuntimeImages returns the image of every known runtime, keyed by runtime.
func RuntimeImages(b interface{ Prefix() string }) map[string]string {
	out := make(map[string]string, len(runtimes))
	for _, rt := range runtimes {
		out[rt] = b.Prefix() + "/" + RuntimeRepositoryPrefix + rt + ":" + RuntimeTag
	}
	return out
}
