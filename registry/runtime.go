package registry

import (
	"slices"

	"github.com/molecule-ai/registrykit/internal/names"
)

// DefaultRuntime is the runtime used when a caller names none.
const DefaultRuntime = "langgraph"

// RuntimeRepositoryPrefix is what a runtime name is appended to, below the
// registry prefix, to name its image repository.
const runtimeRepositoryPrefix = "workspace-template-"

// RuntimeTag is the tag every runtime image is published under.
const RuntimeTag = "latest"

// defaultRuntimes is kept sorted; DefaultRuntimes returns a copy.
var defaultRuntimes = []string{
	"autogen", "claude-code", "codex", "crewai", "deepagents",
	"gemini-cli", "hermes", "langgraph", "openclaw",
}

// DefaultRuntimes returns the built-in list of workspace runtimes, in
// alphabetical order. It is a default: an application with its own list
// passes that instead (as watch.Options.Runtimes, for example), and every
// function here accepts any runtime whose repository name is valid. The
// slice is a fresh copy the caller may keep or modify.
func DefaultRuntimes() []string { return slices.Clone(defaultRuntimes) }

// RuntimeRepository returns the repository of runtime below the prefix,
// "workspace-template-<runtime>". Any runtime is accepted whose repository
// name, like the runtime name itself, is one component of the OCI
// distribution name grammar (lowercase
// letters and digits, separated by '.', '_', '__' or dashes); another name is
// a [*ConfigError] matching [ErrInvalidConfig] that quotes it.
func RuntimeRepository(runtime string) (string, error) {
	repo := runtimeRepositoryPrefix + runtime
	if !names.IsComponent(runtime) || !names.IsComponent(repo) {
		return "", &ConfigError{
			Var: "runtime", Value: runtime,
			Reason: "does not make a valid repository name " + repo,
			Fix:    "use lowercase letters and digits, separated by '-', '.' or '_', e.g. " + DefaultRuntime,
		}
	}
	return repo, nil
}

// RuntimeImage returns "<prefix>/workspace-template-<runtime>:latest" for the
// prefix of b (a [Backend], or a [Prefix]), or the error of
// [RuntimeRepository]. It never returns an empty string without an error.
func RuntimeImage(b interface{ Prefix() string }, runtime string) (string, error) {
	repo, err := RuntimeRepository(runtime)
	if err != nil {
		return "", err
	}
	return b.Prefix() + "/" + repo + ":" + RuntimeTag, nil
}
