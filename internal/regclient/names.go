package regclient

import (
	"regexp"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

var (
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	repoComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
)

// IsDigest reports whether s is a well-formed digest of a registered
// algorithm: "sha256:" and 64 lowercase hex digits, or "sha512:" and 128.
func IsDigest(s string) bool { return digestPattern.MatchString(s) }

// checkRepo validates a repository path (below the prefix, after
// normalisation) against the OCI name grammar.
func checkRepo(repo string) error {
	if repo == "" {
		return &registry.ConfigError{Var: "repository", Value: repo, Reason: "empty repository name", Fix: "name a repository below the prefix, e.g. workspace-template-langgraph"}
	}
	for seg := range strings.SplitSeq(repo, "/") {
		if !repoComponent.MatchString(seg) {
			return &registry.ConfigError{Var: "repository", Value: repo, Reason: "segment " + quote(seg) + " is not a valid repository name component",
				Fix: "use lowercase letters and digits separated by '.', '_', '__' or '-', and '/' between segments"}
		}
	}
	return nil
}

// checkRef validates a tag or digest.
func checkRef(ref string) error {
	if strings.Contains(ref, ":") {
		if !IsDigest(ref) {
			return &registry.ConfigError{Var: "reference", Value: ref, Reason: "malformed digest", Fix: "write sha256: followed by 64 lowercase hex digits"}
		}
		return nil
	}
	if !tagPattern.MatchString(ref) {
		return &registry.ConfigError{Var: "reference", Value: ref, Reason: "not a valid tag", Fix: "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"}
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }
