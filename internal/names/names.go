// Package names is the OCI distribution name grammar registrykit checks
// repository paths with, shared by prefix parsing and the engine.
package names

// IsComponent reports whether s is one path component of the OCI
// distribution name grammar, [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, as in
// "molecule-ai" or "workspace-template-langgraph". It runs on every digest
// check, so it is a scanner rather than a regular expression.
func IsComponent(s string) bool {
	i, n := 0, len(s)
	for {
		start := i
		for i < n && isLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator where letters or digits must be
		}
		if i == n {
			return true
		}
		switch {
		case s[i] == '.':
			i++
		case s[i] == '_':
			i++
			if i < n && s[i] == '_' {
				i++
			}
		case s[i] == '-':
			for i < n && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
