package main

import (
	"fmt"
	"strings"
)

// imageArg is an image named on the command line: relative to the
// configured prefix ("workspace-template-codex:latest") or a full reference
// with its own host ("ghcr.io/org/x@sha256:…").
type imageArg struct {
	Host string // "" when relative to the prefix
	Path string // the repository path, relative to the prefix when Host is ""
	Ref  string // tag or digest; "latest" when none was given
}

// String renders the argument in the form parseImageArg accepts.
func (a imageArg) String() string {
	name := a.Path
	if a.Host != "" {
		name = a.Host + "/" + a.Path
	}
	if strings.Contains(a.Ref, ":") {
		return name + "@" + a.Ref
	}
	return name + ":" + a.Ref
}

// parseImageArg parses NAME[:TAG|@DIGEST] or HOST/PATH[:TAG|@DIGEST]. As
// Docker does, the first segment is a host when it has a dot or a port, is
// "localhost", or is a bracketed IPv6 address. Names and references are
// validated by the backend; this only splits.
func parseImageArg(s string) (imageArg, error) {
	s = strings.TrimSpace(s)
	fail := func(reason string) (imageArg, error) {
		return imageArg{}, fmt.Errorf("%w: image %q: %s; write NAME[:TAG|@DIGEST] or HOST/PATH[:TAG|@DIGEST]", errUsage, s, reason)
	}
	switch {
	case s == "":
		return fail("empty")
	case strings.Contains(s, "://"):
		return fail("has a URL scheme")
	case strings.ContainsAny(s, " \t\r\n"):
		return fail("contains white space")
	}
	var a imageArg
	name := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		name, a.Ref = s[:i], s[i+1:]
		if !strings.Contains(a.Ref, ":") {
			return fail("a digest is algorithm:hex")
		}
	} else if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") && i > strings.LastIndex(s, "]") {
		name, a.Ref = s[:i], s[i+1:]
		if a.Ref == "" {
			return fail("empty tag")
		}
	}
	if a.Ref == "" {
		a.Ref = "latest"
	}
	if first, rest, ok := strings.Cut(name, "/"); ok && isHost(first) {
		a.Host, name = strings.ToLower(first), rest
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return fail("empty repository path segment")
	}
	if strings.ContainsAny(name, "@:") {
		return fail("misplaced ':' or '@'")
	}
	if strings.ContainsAny(a.Ref, "/@") || strings.Count(a.Ref, ":") > 1 {
		return fail("malformed tag or digest")
	}
	a.Path = name
	return a, nil
}

func isHost(segment string) bool {
	return strings.ContainsAny(segment, ".:") || segment == "localhost" || strings.HasPrefix(segment, "[")
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}
