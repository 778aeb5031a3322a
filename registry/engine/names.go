package engine

import (
	"strings"

	"github.com/molecule-ai/registrykit/internal/names"

	"github.com/molecule-ai/registrykit/registry"
)

// The checks below run on every digest check, so they are scanners rather
// than regular expressions.

// isDigest reports whether s is a well-formed digest of a registered
// algorithm: "sha256:" and 64 lowercase hex digits, or "sha512:" and 128.
func isDigest(s string) bool {
	var hex string
	switch {
	case strings.HasPrefix(s, "sha256:"):
		hex = s[len("sha256:"):]
		if len(hex) != 64 {
			return false
		}
	case strings.HasPrefix(s, "sha512:"):
		hex = s[len("sha512:"):]
		if len(hex) != 128 {
			return false
		}
	default:
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isTag reports whether s is a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func isTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// checkRepo validates a repository path (below the prefix, after
// normalisation) against the OCI name grammar.
func checkRepo(repo string) error {
	if repo == "" {
		return &registry.ConfigError{Var: "repository", Value: repo, Reason: "empty repository name", Fix: "name a repository below the prefix, e.g. workspace-template-langgraph"}
	}
	for seg := range strings.SplitSeq(repo, "/") {
		if !names.IsComponent(seg) {
			return &registry.ConfigError{Var: "repository", Value: repo, Reason: "segment " + quote(seg) + " is not a valid repository name component",
				Fix: "use lowercase letters and digits separated by '.', '_', '__' or '-', and '/' between segments"}
		}
	}
	return nil
}

// checkRef validates a tag or digest.
func checkRef(ref string) error {
	if strings.Contains(ref, ":") {
		if !isDigest(ref) {
			return &registry.ConfigError{Var: "reference", Value: ref, Reason: "malformed digest", Fix: "write sha256: followed by 64 lowercase hex digits"}
		}
		return nil
	}
	if !isTag(ref) {
		return &registry.ConfigError{Var: "reference", Value: ref, Reason: "not a valid tag", Fix: "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"}
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }
